using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Records what workers report about shards. Order does not matter: a success always wins over a failure, a failure
/// never replaces a committed success (and its error records go to a different object), and an event for a job that
/// is finished or unknown is ignored. When the last shard is accounted for, the job is merged.
/// </summary>
public sealed partial class ShardOutcomeRecorder(
    JobStateStore state,
    JobProgressTracker progress,
    JobFinalizer finalizer,
    ResultMerger merger,
    IOptions<CoordinatorOptions> options,
    ILogger<ShardOutcomeRecorder> logger)
{
    public Task OnClassifiedAsync(ShardClassified message, CancellationToken cancellationToken)
    {
        var outcome = new ShardOutcome(
            message.ShardIndex, true, message.ImagesOk, message.ImagesFailed, message.ResultLocation, message.Worker, message.Seconds, null,
            message.Weights, message.ExecutionProvider, message.Preprocessing, message.Precision, message.WeightsSha256, message.Untrained);
        return RecordAsync(message.JobId, outcome, cancellationToken);
    }

    /// <summary>A shard failed after every retry: its images become error records, so nothing is silently lost.</summary>
    public async Task OnFaultedAsync(ClassifyShard shard, string reason, CancellationToken cancellationToken)
    {
        var record = await ActiveJobAsync(shard.JobId, cancellationToken);
        if (record is null)
        {
            return;
        }

        if (await state.GetShardOutcomeAsync(shard.JobId, shard.ShardIndex, cancellationToken) is { Succeeded: true })
        {
            LogFaultAfterSuccess(shard.JobId, shard.ShardIndex);
            return;
        }

        var output = merger.ResolveOutput(record.Output);
        var key = JobOutputLayout.FailedResultKey(shard.JobId, shard.ShardIndex);
        await output.Store.CommitAsync(
            output.KeyFor(key),
            (stream, ct) => PredictionWriter.WriteAsync(
                stream,
                shard.Images.Select(i => PredictionRecord.Failure(i.Path, i.Label, "shard-failed", $"The shard failed (after its retries, or past its delivery limit): {reason}")),
                ct),
            cancellationToken);
        LogShardFailed(shard.JobId, shard.ShardIndex, reason);
        var outcome = new ShardOutcome(shard.ShardIndex, false, 0, shard.Images.Count, StorageKeys.JoinLocation(record.Output, key), null, 0, reason);
        await RecordAsync(shard.JobId, outcome, cancellationToken);
    }

    public async Task OnStartedAsync(ShardStarted message, CancellationToken cancellationToken)
    {
        if (await ActiveJobAsync(message.JobId, cancellationToken) is { } record)
        {
            await progress.StartedAsync(message.JobId, message.ShardIndex, () => state.ReadShardOutcomeTotalsAsync(record, cancellationToken));
        }
    }

    public async Task OnSkippedAsync(ShardSkipped message, CancellationToken cancellationToken)
    {
        var record = await ActiveJobAsync(message.JobId, cancellationToken);
        if (record is null)
        {
            return;
        }

        var snapshot = await progress.SkippedAsync(message.JobId, message.ShardIndex, () => state.ReadShardOutcomeTotalsAsync(record, cancellationToken));
        await FinalizeIfCompleteAsync(record, snapshot, cancellationToken);
    }

    private async Task RecordAsync(Guid jobId, ShardOutcome outcome, CancellationToken cancellationToken)
    {
        var record = await ActiveJobAsync(jobId, cancellationToken);
        if (record is null)
        {
            return;
        }

        if (!await state.WriteShardOutcomeAsync(jobId, outcome, cancellationToken))
        {
            LogFaultAfterSuccess(jobId, outcome.ShardIndex);
            return;
        }

        var snapshot = await progress.RecordAsync(jobId, outcome, () => state.ReadShardOutcomeTotalsAsync(record, cancellationToken));
        await StoreTotalsAsync(record, cancellationToken);
        await FinalizeIfCompleteAsync(record, snapshot, cancellationToken);
    }

    /// <summary>Every <see cref="CoordinatorOptions.OutcomeTotalsBatch"/> outcomes, folds them into the job's stored
    /// totals, so that a status after a restart and the merge read one object and at most a batch of outcomes, not one
    /// object per shard (a 10,000,000-image job of 39,063 shards stores its totals 76 times). A failure here loses
    /// nothing: outcomes missing from the totals are read one by one when the totals are next read.</summary>
    private async Task StoreTotalsAsync(JobRecord record, CancellationToken cancellationToken)
    {
        var outcomes = progress.TakeUnstored(record.JobId, options.Value.OutcomeTotalsBatch);
        if (outcomes.Count == 0)
        {
            return;
        }

        try
        {
            await state.FoldIntoStoredTotalsAsync(record, outcomes, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTotalsNotStored(record.JobId, outcomes.Count, e.Message);
        }
    }

    private async Task FinalizeIfCompleteAsync(JobRecord record, JobProgressSnapshot snapshot, CancellationToken cancellationToken)
    {
        var complete = record.Status == JobStatus.Cancelling
            ? snapshot.ShardsRunning == 0 && snapshot.ShardsDone + snapshot.ShardsSkipped >= record.ShardCount
            : snapshot.ShardsDone >= record.ShardCount;
        if (complete)
        {
            await finalizer.TryFinalizeAsync(record.JobId, cancellationToken);
        }
    }

    /// <summary>The job's record, or null when the job is unknown (deleted) or finished: late events change nothing.</summary>
    private async Task<JobRecord?> ActiveJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null || record.IsTerminal || record.PlannedAt is null)
        {
            if (record?.PlannedAt is null && record is { IsTerminal: false })
            {
                // Cannot happen (the plan is stored before any shard is sent); say so rather than guess.
                LogUnplanned(jobId);
            }

            return null;
        }

        return record;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} shard {Shard} failed after retries: {Reason}")]
    private partial void LogShardFailed(Guid jobId, int shard, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} shard {Shard}: a failure reported after the shard's committed success is ignored")]
    private partial void LogFaultAfterSuccess(Guid jobId, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {Outcomes} shard outcomes were not folded into the stored totals ({Reason}); they are read one by one when the totals are next read")]
    private partial void LogTotalsNotStored(Guid jobId, int outcomes, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: a shard event arrived before the job's plan was stored; ignored")]
    private partial void LogUnplanned(Guid jobId);
}
