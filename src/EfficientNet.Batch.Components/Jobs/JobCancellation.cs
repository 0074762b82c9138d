using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Cancels a job: marks it <c>Cancelling</c>, leaves a cancel marker beside its shard results (a worker checks it before
/// each shard, so even one that missed the event skips the job's queued shards), tells every worker (running shards
/// stop), and closes the job as <c>Cancelled</c> with the shards committed so far once every shard reported or the
/// grace period passed. Idempotent.
/// </summary>
public sealed partial class JobCancellation(
    JobStateStore state,
    IStorageResolver storage,
    IJobEventPublisher events,
    JobFinalizer finalizer,
    IHostApplicationLifetime lifetime,
    IOptions<CoordinatorOptions> options,
    TimeProvider clock,
    ILogger<JobCancellation> logger)
{
    /// <summary>Returns the job as it stands after the request: <c>Cancelling</c> (or already <c>Cancelled</c>), or
    /// unchanged when it had already finished. Throws <see cref="JobNotFoundException"/>.</summary>
    public async Task<JobRecord> CancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.UpdateAsync(
            jobId,
            r => r.IsTerminal || r.Status == JobStatus.Cancelling ? r : r with { Status = JobStatus.Cancelling, CancelRequestedAt = clock.GetUtcNow() },
            cancellationToken);
        if (record.Status != JobStatus.Cancelling)
        {
            return record;
        }

        var output = storage.Resolve(record.Output);
        using (var empty = new MemoryStream())
        {
            await output.Store.WriteAsync(output.KeyFor(JobOutputLayout.CancelMarkerKey(jobId)), empty, WriteCondition.None, cancellationToken);
        }

        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(options.Value.SubmitTimeout);
            try
            {
                await events.PublishAsync(new JobCancelled(jobId), timeout.Token);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The marker still stops queued shards; running ones finish and are merged.
                LogEventDeferred(jobId, e.GetType().Name, e.Message);
            }
        }

        LogCancelling(jobId);
        _ = CloseAfterGraceAsync(jobId);
        return record;
    }

    private async Task CloseAfterGraceAsync(Guid jobId)
    {
        var stopping = lifetime.ApplicationStopping;
        try
        {
            await Task.Delay(options.Value.CancelGracePeriod + TimeSpan.FromMilliseconds(100), clock, stopping);
            await finalizer.TryFinalizeAsync(jobId, stopping);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The sweep closes the job on its next pass.
            LogCloseDeferred(jobId, e.GetType().Name, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} cancelling: queued shards are skipped, running ones stop")]
    private partial void LogCancelling(Guid jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the cancel event could not be published ({Error}: {Reason}); workers still skip its queued shards by its marker")]
    private partial void LogEventDeferred(Guid jobId, string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: closing after the cancel grace period is left to the sweep ({Error}: {Reason})")]
    private partial void LogCloseDeferred(Guid jobId, string error, string reason);
}
