using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Components.Messaging;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.ServiceDefaults;
using EfficientNet.Batch.Storage;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components;

public static class ComponentsRegistration
{
    /// <summary>Job planning, tracking and merging (the coordinator's services).</summary>
    public static IHostApplicationBuilder AddCoordinatorComponents(this IHostApplicationBuilder builder)
    {
        builder.AddStorage();
        builder.Services.AddOptions<CoordinatorOptions>()
            .BindConfiguration(CoordinatorOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsAnnotationsValidator>());
        builder.Services.AddSingleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>();
        builder.Services.AddOptions<JobLimitsOptions>()
            .BindConfiguration(JobLimitsOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobLimitsOptions>, JobLimitsOptionsAnnotationsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<JobIndex>();
        builder.Services.AddSingleton(sp =>
        {
            var location = sp.GetRequiredService<IStorageResolver>().Resolve(sp.GetRequiredService<IOptions<CoordinatorOptions>>().Value.StateLocation);
            return new JobStateStore(location.Store, location.Prefix, sp.GetRequiredService<JobIndex>());
        });
        builder.Services.AddSingleton<JobProgressTracker>();
        builder.Services.AddKeyedSingleton(LocationPolicies.Coordinator, (sp, _) =>
            LocationPolicy.ForCoordinator(sp.GetRequiredService<IOptions<CoordinatorOptions>>().Value));
        builder.Services.AddSingleton<JobSpecValidator>();
        builder.Services.AddSingleton<OutputOwnership>();
        builder.Services.AddSingleton<DatasetLister>();
        builder.Services.AddSingleton<ResultMerger>();
        builder.Services.AddOutputFormats();
        builder.Services.AddOptions<CostOptions>().BindConfiguration(CostOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CostOptions>, CostOptionsValidator>();
        builder.Services.AddOptions<ModelStoreOptions>().BindConfiguration(ModelStoreOptions.SectionName);
        builder.Services.AddSingleton<ModelIdentityResolver>();
        builder.Services.AddSingleton<BaselineReader>();
        builder.Services.AddSingleton<IncrementalPlanner>();
        // AddBatchBus replaces this with the RabbitMQ declaration when the bus runs on RabbitMQ.
        builder.Services.TryAddSingleton<IQueueDeclarer, InMemoryQueueDeclarer>();
        builder.Services.AddSingleton<IShardDispatcher, BusShardDispatcher>();
        builder.Services.AddSingleton<IDispatchRequester, BusDispatchRequester>();
        builder.Services.AddSingleton<IJobEventPublisher, BusJobEventPublisher>();
        builder.Services.AddSingleton<JobSubmission>();
        builder.Services.AddSingleton<JobDispatcher>();
        builder.Services.TryAddSingleton<ServedModels>();
        builder.Services.AddSingleton<JobFinalizer>();
        builder.Services.AddSingleton<ShardResultCleanup>();
        builder.Services.AddSingleton<ShardOutcomeRecorder>();
        builder.Services.AddSingleton<JobCancellation>();
        builder.Services.AddSingleton<JobQueries>();
        builder.Services.AddSingleton<JobDeletion>();
        builder.Services.AddSingleton<JobSweeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobSweeper>());
        Schedules.ScheduleRegistration.AddSchedules(builder);
        return builder;
    }

    /// <summary>Model loading, decoding and shard classification (the worker's services).</summary>
    public static IHostApplicationBuilder AddWorkerComponents(this IHostApplicationBuilder builder)
    {
        builder.AddStorage();
        builder.AddInference();
        builder.AddModelStore();
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsAnnotationsValidator>());
        // Worker:MaxLoadedModels bounds the models a worker keeps loaded (ModelSessionCache).
        builder.Services.AddOptions<ModelSessionCacheOptions>()
            .Configure<IOptions<WorkerOptions>>((cache, worker) => cache.MaxLoadedModels = worker.Value.MaxLoadedModels);
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerLocationOptionsValidator>();
        builder.Services.AddKeyedSingleton(LocationPolicies.Worker, (sp, _) =>
            LocationPolicies.ForWorker(sp.GetRequiredService<IOptions<WorkerOptions>>().Value, sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<ShardLocationGuard>();
        builder.Services.AddSingleton(sp =>
        {
            var inference = sp.GetRequiredService<IOptions<InferenceOptions>>().Value;
            return new PreprocessorCache(inference.MaxImagePixels, inference.JpegDecoder, sp.GetRequiredService<ILogger<PreprocessorCache>>());
        });
        builder.Services.AddSingleton<DeviceTurns>();
        builder.Services.AddSingleton<WorkerTimeShares>();
        builder.Services.AddSingleton<ImageBatchClassifier>();
        builder.Services.AddSingleton<ClassificationProgress>();
        builder.Services.AddSingleton<ShardClassifier>();
        builder.Services.AddSingleton<IShardClassifier>(sp => sp.GetRequiredService<ShardClassifier>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CancelledJobs>();
        builder.Services.AddSingleton<ShardDeliveries>();
        builder.Services.AddSingleton<ShardExecution>();
        builder.Services.AddSingleton<ModelWarmUp>();
        builder.Services.AddSingleton<ModelPreloader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelPreloader>());
        builder.Services.AddHealthChecks().AddCheck<ModelPreloader>("models", tags: ["ready"]);
        return builder;
    }

    public static void AddCoordinatorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SubmitJobConsumer, SubmitJobConsumerDefinition>();
        bus.AddConsumer<ShardClassifiedConsumer, ShardClassifiedConsumerDefinition>();
        bus.AddConsumer<ClassifyShardFaultConsumer, ClassifyShardFaultConsumerDefinition>();
        bus.AddConsumer<ShardProgressConsumer, ShardProgressConsumerDefinition>();
    }

    public static void AddWorkerConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ClassifyShardConsumer, ClassifyShardConsumerDefinition>();
        bus.AddConsumer<JobCancelledConsumer, JobCancelledConsumerDefinition>();
    }
}
