using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using Microsoft.Extensions.Configuration;

namespace EfficientNet.Batch.Components.Security;

/// <summary>
/// The two policies a process may hold (one host can run both roles, as <c>effnet run</c> does), registered as keyed
/// services under these keys, and how the worker's settings fall back to the coordinator's.
/// </summary>
public static class LocationPolicies
{
    public const string Coordinator = "coordinator";
    public const string Worker = "worker";

    /// <summary>
    /// The policy of a worker: <c>Worker:AllowedDatasets</c> / <c>Worker:AllowedOutputs</c>, each falling back to the
    /// <c>Coordinator:</c> list of the same name when unset, so that one configuration serves both roles. Outputs under
    /// <c>Coordinator:OutputLocation</c> are trusted and <c>Coordinator:StateLocation</c> is reserved when the worker's
    /// configuration sets them (a worker does not assume the coordinator's defaults, which are relative paths).
    /// </summary>
    public static LocationPolicy ForWorker(WorkerOptions options, IConfiguration configuration) => new(
        WorkerRoots(options, configuration, LocationUse.Dataset),
        WorkerRoots(options, configuration, LocationUse.Output),
        ConfiguredCoordinatorLocation(configuration, nameof(CoordinatorOptions.OutputLocation)),
        ConfiguredCoordinatorLocation(configuration, nameof(CoordinatorOptions.StateLocation)));

    /// <summary>The roots a worker allows for <paramref name="use"/>, named after the setting that gave them.</summary>
    public static LocationRoots WorkerRoots(WorkerOptions options, IConfiguration configuration, LocationUse use)
    {
        var name = use == LocationUse.Dataset ? nameof(WorkerOptions.AllowedDatasets) : nameof(WorkerOptions.AllowedOutputs);
        var own = use == LocationUse.Dataset ? options.AllowedDatasets : options.AllowedOutputs;
        var workerSetting = $"{WorkerOptions.SectionName}:{name}";
        if (own is { Count: > 0 })
        {
            return new LocationRoots(workerSetting, own);
        }

        var coordinatorSetting = $"{CoordinatorOptions.SectionName}:{name}";
        var shared = configuration.GetSection(coordinatorSetting).Get<string[]>() ?? [];
        return shared.Length > 0
            ? new LocationRoots(coordinatorSetting, shared)
            : new LocationRoots($"{workerSetting} (or {coordinatorSetting})", []);
    }

    private static ConfiguredLocation[] ConfiguredCoordinatorLocation(IConfiguration configuration, string name)
    {
        var setting = $"{CoordinatorOptions.SectionName}:{name}";
        return configuration[setting] is { Length: > 0 } location ? [new ConfiguredLocation(setting, location)] : [];
    }
}
