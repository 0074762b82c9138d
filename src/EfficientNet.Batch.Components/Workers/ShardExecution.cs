using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>What became of a shard message on a worker: classified, or skipped for a cancel.</summary>
public sealed record ShardRunResult(ShardClassified? Classified, ShardSkipped? Skipped);

/// <summary>
/// Runs one shard message on a worker: refuses it when its locations are outside the worker's policy (before anything is
/// read or written; <see cref="LocationRefusedException"/> faults the message), skips it when its job is cancelled (heard by event, or found by its cancel
/// marker), counts a new delivery (<see cref="ShardDeliveries"/>: past the limit the message faults), announces the
/// start, and classifies it with a token that a cancel of the job trips, so a running shard stops within moments and
/// writes nothing.
/// </summary>
public sealed partial class ShardExecution(
    IShardClassifier classifier,
    CancelledJobs cancelled,
    ShardDeliveries deliveries,
    ShardLocationGuard guard,
    IStorageResolver storage,
    IOptions<WorkerOptions> options,
    ILogger<ShardExecution> logger)
{
    /// <param name="newDelivery">The broker delivered the message anew (not a retry of a delivery in this process).</param>
    public async Task<ShardRunResult> RunAsync(ClassifyShard shard, bool newDelivery, Func<ShardStarted, Task> announce, CancellationToken cancellationToken)
    {
        guard.EnsureAllowed(shard);
        var worker = options.Value.EffectiveName;
        if (await IsCancelledAsync(shard, cancellationToken))
        {
            LogSkipped(shard.JobId, shard.ShardIndex);
            return new ShardRunResult(null, new ShardSkipped(shard.JobId, shard.ShardIndex, worker, "the job was cancelled before the shard started"));
        }

        if (newDelivery)
        {
            await deliveries.CountAsync(shard, cancellationToken);
        }

        await announce(new ShardStarted(shard.JobId, shard.ShardIndex, worker));
        using var running = cancelled.Track(shard.JobId, cancellationToken);
        try
        {
            var classified = await classifier.ClassifyAsync(shard, running.Token);
            await deliveries.ForgetAsync(shard, cancellationToken);
            return new ShardRunResult(classified, null);
        }
        catch (OperationCanceledException) when (running.StoppedByCancel && !cancellationToken.IsCancellationRequested)
        {
            LogStopped(shard.JobId, shard.ShardIndex);
            return new ShardRunResult(null, new ShardSkipped(shard.JobId, shard.ShardIndex, worker, "the job was cancelled while the shard ran"));
        }
    }

    private async Task<bool> IsCancelledAsync(ClassifyShard shard, CancellationToken cancellationToken)
    {
        if (cancelled.IsCancelled(shard.JobId))
        {
            return true;
        }

        if (shard.CancelMarkerKey is null)
        {
            return false;
        }

        var output = storage.Resolve(shard.OutputLocation);
        if (await output.Store.GetPropertiesAsync(output.KeyFor(shard.CancelMarkerKey), cancellationToken) is null)
        {
            return false;
        }

        cancelled.Cancel(shard.JobId);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} shard {Shard} skipped: the job is cancelled")]
    private partial void LogSkipped(Guid jobId, int shard);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} shard {Shard} stopped: the job was cancelled")]
    private partial void LogStopped(Guid jobId, int shard);
}
