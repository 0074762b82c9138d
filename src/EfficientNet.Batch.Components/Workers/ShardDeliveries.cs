using System.Globalization;
using System.Text;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>
/// Counts the broker's deliveries of each shard in a small object beside the shard's result
/// (<see cref="JobOutputLayout.DeliveriesKey"/>), so that the count survives the worker process: a shard that kills
/// every worker that takes it (the process dies, no exception is thrown, nothing faults the message) would otherwise be
/// redelivered forever. Past <see cref="WorkerOptions.MaxShardDeliveries"/> the shard is refused with
/// <see cref="ShardDeliveryLimitException"/>, which faults the message, and the coordinator reports its images as errors.
/// </summary>
/// <remarks>
/// Only a new delivery counts, not MassTransit's in-process retries of one: those end in a fault by themselves. The
/// object is written with optimistic concurrency (two deliveries of one shard at once, after a connection loss, both
/// count), removed once the shard's result is committed (<see cref="ForgetAsync"/>), and otherwise with the job's other
/// working files once the job completes (<see cref="ShardResultCleanup"/>).
/// </remarks>
public sealed partial class ShardDeliveries(IStorageResolver storage, IOptions<WorkerOptions> options, ILogger<ShardDeliveries> logger)
{
    /// <summary>Counts a new delivery of <paramref name="shard"/>; throws <see cref="ShardDeliveryLimitException"/> when
    /// it is one more than the limit allows. Returns the count.</summary>
    public async Task<int> CountAsync(ClassifyShard shard, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(shard.OutputLocation);
        var key = output.KeyFor(JobOutputLayout.DeliveriesKey(shard.JobId, shard.ShardIndex));
        var deliveries = await IncrementAsync(output.Store, key, cancellationToken);
        var limit = options.Value.MaxShardDeliveries;
        if (deliveries > limit)
        {
            LogLimitReached(shard.JobId, shard.ShardIndex, deliveries, limit);
            throw new ShardDeliveryLimitException(shard, deliveries, limit);
        }

        if (deliveries > 1)
        {
            LogRedelivered(shard.JobId, shard.ShardIndex, deliveries, limit);
        }

        return deliveries;
    }

    /// <summary>Removes the shard's counter once its result is committed: a counter lives only while its shard is in
    /// flight, so a finished shard leaves nothing but its result, and the job's cleanup has one object less per shard.
    /// A failure here only leaves the counter for that cleanup.</summary>
    public async Task ForgetAsync(ClassifyShard shard, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(shard.OutputLocation);
        try
        {
            await output.Store.DeleteAsync(output.KeyFor(JobOutputLayout.DeliveriesKey(shard.JobId, shard.ShardIndex)), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogNotForgotten(shard.JobId, shard.ShardIndex, e.Message);
        }
    }

    private static async Task<int> IncrementAsync(IBlobStore store, string key, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await store.GetPropertiesAsync(key, cancellationToken);
            var count = current is null ? 0 : await ReadCountAsync(store, key, cancellationToken);
            var condition = current is null ? WriteCondition.Absent : WriteCondition.Matches(current.ETag);
            try
            {
                using var content = new MemoryStream(Encoding.ASCII.GetBytes((count + 1).ToString(CultureInfo.InvariantCulture)));
                await store.WriteAsync(key, content, condition, cancellationToken);
                return count + 1;
            }
            catch (BlobConditionFailedException)
            {
                // Another delivery of the same shard counted in between: count again on top of it.
            }
        }
    }

    private static async Task<int> ReadCountAsync(IBlobStore store, string key, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(key, cancellationToken);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            var text = await reader.ReadToEndAsync(cancellationToken);
            // A counter that is not a number was not written by a worker: start again rather than stop the shard.
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
        }
        catch (BlobNotFoundException)
        {
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} shard {Shard}: delivery {Deliveries} of at most {Limit}; an earlier delivery ended without an outcome (its worker stopped)")]
    private partial void LogRedelivered(Guid jobId, int shard, int deliveries, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} shard {Shard}: its delivery counter stays until the job's cleanup ({Reason})")]
    private partial void LogNotForgotten(Guid jobId, int shard, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} shard {Shard}: delivery {Deliveries} is past the delivery limit of {Limit} (Worker:MaxShardDeliveries); the shard fails")]
    private partial void LogLimitReached(Guid jobId, int shard, int deliveries, int limit);
}

/// <summary>A shard was delivered more often than <see cref="WorkerOptions.MaxShardDeliveries"/> allows: every earlier
/// delivery ended without an outcome (its worker process died). Not retried: the message faults.</summary>
public sealed class ShardDeliveryLimitException(ClassifyShard shard, int deliveries, int limit) : Exception(
    $"Shard {shard.ShardIndex} of job {shard.JobId} reached the delivery limit: delivered {deliveries} times, more than " +
    $"Worker:{nameof(WorkerOptions.MaxShardDeliveries)} ({limit}); each earlier delivery ended without an outcome (its worker process died)")
{
    public int Deliveries { get; } = deliveries;

    public int Limit { get; } = limit;
}
