using System.ComponentModel.DataAnnotations;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Coordinator.Security;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.ServiceDefaults;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>
/// Binds an environment (as compose or the chart gives it to a host) into the real options classes the way the host
/// does at start, and collects what would stop it: unknown keys, values that do not convert, failed validation.
/// </summary>
internal static class HostConfiguration
{
    // The coordinator reads Models:RemoteLocation/Directory for the weights identity of incremental jobs.
    public static readonly string[] CoordinatorSections =
    [
        MessagingOptions.SectionName, StorageOptions.SectionName, CoordinatorOptions.SectionName, AuthOptions.SectionName, JobLimitsOptions.SectionName,
        ModelStoreOptions.SectionName, EfficientNet.Batch.Components.Schedules.ScheduleOptions.SectionName,
    ];

    // Workers read Coordinator:AllowedDatasets/AllowedOutputs/OutputLocation as their location policy's fallback.
    public static readonly string[] WorkerSections =
    [
        MessagingOptions.SectionName, StorageOptions.SectionName, WorkerOptions.SectionName, InferenceOptions.SectionName, ModelStoreOptions.SectionName,
        CoordinatorOptions.SectionName,
    ];

    public static List<string> CoordinatorProblems(IReadOnlyDictionary<string, string> environment)
    {
        var problems = ForeignSections(environment, CoordinatorSections);
        var configuration = ToConfiguration(environment);
        var storage = Bind<StorageOptions>(configuration, StorageOptions.SectionName, problems);
        UseConnectionStringVariable(storage, configuration);
        var messaging = Bind<MessagingOptions>(configuration, MessagingOptions.SectionName, problems);
        messaging.RabbitMqUri ??= configuration["RABBITMQ_URI"];
        var coordinator = Bind<CoordinatorOptions>(configuration, CoordinatorOptions.SectionName, problems);
        var auth = Bind<AuthOptions>(configuration, AuthOptions.SectionName, problems);
        var limits = Bind<JobLimitsOptions>(configuration, JobLimitsOptions.SectionName, problems);
        Validate(problems, storage, messaging, coordinator, limits);
        problems.AddRange(new AuthOptionsValidator().Validate(null, auth).Failures ?? []);
        var locations = new CoordinatorOptionsValidator(new StorageResolver(Options.Create(storage))).Validate(null, coordinator);
        problems.AddRange(locations.Failures ?? []);
        return problems;
    }

    public static List<string> WorkerProblems(IReadOnlyDictionary<string, string> environment)
    {
        var problems = ForeignSections(environment, WorkerSections);
        var configuration = ToConfiguration(environment);
        var storage = Bind<StorageOptions>(configuration, StorageOptions.SectionName, problems);
        UseConnectionStringVariable(storage, configuration);
        var messaging = Bind<MessagingOptions>(configuration, MessagingOptions.SectionName, problems);
        messaging.RabbitMqUri ??= configuration["RABBITMQ_URI"];
        var worker = Bind<WorkerOptions>(configuration, WorkerOptions.SectionName, problems);
        var inference = Bind<InferenceOptions>(configuration, InferenceOptions.SectionName, problems);
        var models = Bind<ModelStoreOptions>(configuration, ModelStoreOptions.SectionName, problems);
        Validate(problems, storage, messaging, worker, inference, models);
        // The worker stops at start when it cannot preload a model: an id outside the catalogue never loads.
        problems.AddRange(worker.PreloadModels
            .Where(m => !ModelCatalogue.TryGet(m.Id, out _))
            .Select(m => $"Worker:PreloadModels: '{m.Id}' is not a catalogue model"));
        return problems;
    }

    /// <summary>What <c>AddStorage</c> does: AZURE_STORAGE_CONNECTION_STRING applies when neither setting is given.</summary>
    private static void UseConnectionStringVariable(StorageOptions storage, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(storage.AzureConnectionString) && string.IsNullOrWhiteSpace(storage.AccountUrl))
        {
            storage.AzureConnectionString = configuration[StorageOptions.ConnectionStringEnvironmentVariable];
        }
    }

    /// <summary>The value a host sees for a setting, e.g. <c>Inference:Device</c>, bound to its property's type.</summary>
    public static InferenceOptions Inference(IReadOnlyDictionary<string, string> environment) =>
        Bind<InferenceOptions>(ToConfiguration(environment), InferenceOptions.SectionName, []);

    /// <summary>Environment variables as the host's configuration sees them: <c>__</c> is the section separator.</summary>
    public static IConfiguration ToConfiguration(IReadOnlyDictionary<string, string> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(p =>
                KeyValuePair.Create(p.Key.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), (string?)p.Value)))
            .Build();

    private static T Bind<T>(IConfiguration configuration, string section, List<string> problems)
        where T : class, new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new T();
        }
        catch (InvalidOperationException e)
        {
            problems.Add($"{section}: {e.Message}");
            return new T();
        }
    }

    /// <summary>What <c>ValidateDataAnnotations()</c> checks: the attributes and <see cref="IValidatableObject"/>.</summary>
    private static void Validate(List<string> problems, params object[] options)
    {
        foreach (var option in options)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(option, new ValidationContext(option), results, validateAllProperties: true);
            problems.AddRange(results.Select(r => $"{option.GetType().Name}: {r.ErrorMessage}"));
        }
    }

    private static List<string> ForeignSections(IReadOnlyDictionary<string, string> environment, string[] sections) =>
    [
        .. environment.Keys
            .Where(k => k.Contains("__", StringComparison.Ordinal))
            .Where(k => !sections.Contains(k.Split("__")[0], StringComparer.OrdinalIgnoreCase))
            .Select(k => $"{k}: this host binds only the sections {string.Join(", ", sections)}"),
    ];
}
