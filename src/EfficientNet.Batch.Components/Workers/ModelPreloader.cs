using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>Loads <see cref="WorkerOptions.PreloadModels"/> at start-up and warms each up (<see cref="ModelWarmUp"/>); the
/// worker is not ready (<c>/readyz</c>) until they are. A model that cannot load stops the host: a worker that cannot serve its model must not take shards.</summary>
public sealed partial class ModelPreloader(
    IOptions<WorkerOptions> options,
    SharedModelStore sharedModels,
    ModelStore models,
    ModelSessionCache sessions,
    ModelWarmUp warmUp,
    ILogger<ModelPreloader> logger) : IHostedService, IHealthCheck
{
    private volatile bool _loaded;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var preload in options.Value.PreloadModels)
        {
            var model = new ModelRef(preload.Id, preload.RandomSeed is not null, preload.RandomSeed ?? 0);
            await sharedModels.EnsureLocalAsync(model, cancellationToken);
            var resolved = await models.ResolveAsync(model.ModelId, preload.RandomSeed, cancellationToken);
            using var lease = sessions.Acquire(resolved.OnnxPath, resolved.OnnxSha256);
            var session = lease.Session;
            var warm = warmUp.Run(resolved, session, cancellationToken);
            LogPreloaded(model.Describe(), session.ExecutionProvider, warm.Images, warm.Elapsed.TotalSeconds);
        }

        _loaded = true;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Preloading models."));

    [LoggerMessage(Level = LogLevel.Information, Message = "Preloaded {Model} on {Provider}; warmed up with {Images} synthetic images in {Seconds:F2} s")]
    private partial void LogPreloaded(string model, string provider, int images, double seconds);
}
