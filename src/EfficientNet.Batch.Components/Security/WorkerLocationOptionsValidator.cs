using EfficientNet.Batch.Components.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Security;

/// <summary>Checks at start-up that every root a worker allows (its own lists, or the coordinator's it falls back to)
/// is a location, so a typo stops the worker with the setting's name instead of refusing every shard.</summary>
public sealed class WorkerLocationOptionsValidator(IConfiguration configuration) : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var failures = AllowedRoots.Validate(LocationPolicies.WorkerRoots(options, configuration, LocationUse.Dataset))
            .Concat(AllowedRoots.Validate(LocationPolicies.WorkerRoots(options, configuration, LocationUse.Output)))
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
