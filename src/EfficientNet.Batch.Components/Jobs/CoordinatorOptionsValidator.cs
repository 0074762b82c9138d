using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Checks at start-up that the coordinator's locations resolve (e.g. an <c>az://</c> location has a connection
/// string) and that every allowed root is a location, so a misconfigured coordinator stops at once with a message
/// naming the setting, not at its first job.</summary>
public sealed class CoordinatorOptionsValidator(IStorageResolver storage) : IValidateOptions<CoordinatorOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinatorOptions options)
    {
        var failures = new List<string>();
        Check($"{CoordinatorOptions.SectionName}:{nameof(CoordinatorOptions.StateLocation)}", options.StateLocation);
        Check($"{CoordinatorOptions.SectionName}:{nameof(CoordinatorOptions.OutputLocation)}", options.OutputLocation);
        failures.AddRange(AllowedRoots.Validate(new LocationRoots(
            $"{CoordinatorOptions.SectionName}:{nameof(CoordinatorOptions.AllowedDatasets)}", options.AllowedDatasets)));
        failures.AddRange(AllowedRoots.Validate(new LocationRoots(
            $"{CoordinatorOptions.SectionName}:{nameof(CoordinatorOptions.AllowedOutputs)}", options.AllowedOutputs)));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(string setting, string? location)
        {
            if (string.IsNullOrWhiteSpace(location))
            {
                return;
            }

            try
            {
                storage.Resolve(location);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
            {
                failures.Add($"{setting} '{location}': {e.Message}");
            }
        }
    }
}
