using System.Diagnostics;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Models.Catalogue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Ends a job: merges its shard results into predictions.jsonl, writes summary.json and records the final status.
/// A running job is merged once every shard has a durable outcome; a cancelled one once every shard reported or the
/// cancel grace period passed, with the shards committed so far. A merge lease, renewed while merging, keeps two
/// coordinators from merging the same job, and a dead coordinator's lease is taken over after
/// <see cref="CoordinatorOptions.FinalizeLeaseTimeout"/>. A completed job's working files are then removed
/// (<see cref="ShardResultCleanup"/>) before <c>JobCompleted</c> is published, so whoever waits for that event finds
/// the outputs only.
/// </summary>
public sealed partial class JobFinalizer(
    JobStateStore state,
    JobProgressTracker progress,
    ResultMerger merger,
    IJobEventPublisher events,
    IOptions<CoordinatorOptions> options,
    IOptions<CostOptions> cost,
    ServedModels models,
    ShardResultCleanup cleanup,
    TimeProvider clock,
    ILogger<JobFinalizer> logger)
{
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>Merges the job if it is ready and no other coordinator is merging it. Returns true when this call ended
    /// the job.</summary>
    public async Task<bool> TryFinalizeAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null || record.IsTerminal)
        {
            return false;
        }

        var cancelling = record.Status == JobStatus.Cancelling;
        if (!cancelling && record.PlannedAt is null)
        {
            return false;
        }

        var outcomes = await state.ReadShardOutcomeTotalsAsync(record, cancellationToken);
        if (outcomes.Count < record.ShardCount && !(cancelling && await CancelSettledAsync(record, cancellationToken)))
        {
            return false;
        }

        if (!await state.TryAcquireFinalizeLeaseAsync(jobId, _owner, clock.GetUtcNow(), options.Value.FinalizeLeaseTimeout, cancellationToken))
        {
            return false;
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = RenewWhileMergingAsync(jobId, renewal.Token);
        try
        {
            // The record read before the lease carries the job's trace context (set at submission, never changed).
            using var activity = JobTracing.StartPhase(JobTracing.Spans.Merge, record);
            await FinalizeAsync(record, outcomes, cancelling, activity, cancellationToken);
        }
        finally
        {
            await renewal.CancelAsync();
            await heartbeat;
            await state.ReleaseFinalizeLeaseAsync(jobId, CancellationToken.None);
        }

        progress.Forget(jobId);
        // Every shard was sent and is accounted for: nothing reads the stored plan again.
        await state.DeletePlanAsync(jobId, cancellationToken);
        return true;
    }

    private async Task FinalizeAsync(JobRecord record, ShardOutcomeTotals outcomes, bool cancelling, Activity? activity, CancellationToken cancellationToken)
    {
        activity?.SetTag(JobTracing.Tags.Shards, record.ShardCount);
        var jobId = record.JobId;
        var expected = cancelling
            ? outcomes.ImagesOk + outcomes.ImagesFailed + (record.Incremental?.Reused ?? 0)
            : record.ImageCount;
        MergedJob merged;
        ModelDescription? model;
        try
        {
            EnsureOneModelIdentity(record, outcomes);
            model = await DescribeModelAsync(record, cancellationToken);
            merged = await merger.MergeAsync(record, outcomes, expected, cancellationToken, model?.ClassNames);
        }
        catch (MergeCountException e)
        {
            LogMergeFailed(jobId, e.Message);
            activity?.SetTag(JobTracing.Tags.Status, nameof(JobStatus.Failed));
            JobTracing.Fail(activity, e.Message);
            var failedAt = clock.GetUtcNow();
            await state.UpdateAsync(
                jobId,
                r => r.IsTerminal ? r : r with { Status = JobStatus.Failed, Error = e.Message, CompletedAt = failedAt, Totals = new JobTotals(0, 0, 0, 0, 0, r.ImageCount) },
                cancellationToken);
            await events.PublishAsync(
                new JobCompleted(jobId, nameof(JobStatus.Failed), JobOutputLayout.PredictionsLocation(record), JobOutputLayout.SummaryLocation(record), 0, 0, 0),
                cancellationToken);
            BatchMetrics.JobsCompleted.Add(1, new KeyValuePair<string, object?>("effnet.job.status", nameof(JobStatus.Failed)));
            return;
        }

        await using var _ = merged;
        var statistics = merged.Statistics;
        var completedAt = clock.GetUtcNow();
        var status = cancelling ? JobStatus.Cancelled : outcomes.AllSucceeded ? JobStatus.Completed : JobStatus.CompletedWithErrors;
        var summary = JobSummaryBuilder.Build(
            record, outcomes, statistics, status, JobOutputLayout.PredictionsLocation(record), completedAt, merged.Files.Locations(record), cost.Value, model);
        await merger.PublishAsync(record, merged, summary, cancellationToken);
        var skipped = record.ShardCount - outcomes.Count;
        var totals = new JobTotals(
            outcomes.Succeeded, outcomes.Count - outcomes.Succeeded, skipped, statistics.Ok, statistics.Failed, summary.ImagesNotClassified);
        await state.UpdateAsync(jobId, r => r.IsTerminal ? r : r with { Status = status, CompletedAt = completedAt, Totals = totals }, cancellationToken);
        await cleanup.RemoveAsync(record, status, cancellationToken);
        activity?.SetTag(JobTracing.Tags.Status, status.ToString());
        activity?.SetTag(JobTracing.Tags.ImagesOk, statistics.Ok);
        activity?.SetTag(JobTracing.Tags.ImagesFailed, statistics.Failed);

        await events.PublishAsync(
            new JobCompleted(jobId, status.ToString(), summary.Predictions, JobOutputLayout.SummaryLocation(record), statistics.Ok, statistics.Failed, summary.WallSeconds),
            cancellationToken);
        BatchMetrics.JobsCompleted.Add(1, new KeyValuePair<string, object?>("effnet.job.status", status.ToString()));
        LogCompleted(jobId, status, statistics.Ok, statistics.Failed, summary.ImagesNotClassified, summary.WallSeconds);
    }

    /// <summary>The job's model as the store describes it, for class names and the summary's model block. A custom
    /// model removed (or damaged) since the job was accepted still gets its job merged: its records name their classes,
    /// and the summary then describes the model by its arch-less id.</summary>
    private async Task<ModelDescription?> DescribeModelAsync(JobRecord record, CancellationToken cancellationToken)
    {
        try
        {
            // A zoo id is answered without I/O.
            return await models.FindAsync(record.Spec.Model, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogModelUndescribed(record.JobId, record.Spec.Model, e.Message);
            return null;
        }
    }

    /// <summary>Reused records were computed under the identity the job was planned with; if a worker classified with
    /// other weights (published while the job ran), the two would be mixed in one output: the job fails instead.</summary>
    private static void EnsureOneModelIdentity(JobRecord record, ShardOutcomeTotals outcomes)
    {
        if (record.Incremental is not { Reused: > 0, Identity: { } planned })
        {
            return;
        }

        foreach (var (shard, used) in outcomes.Identities)
        {
            if (used.DifferenceFrom(planned) is { } difference)
            {
                throw new MergeCountException(
                    $"Shard {shard} was classified under another model identity than the {record.Incremental.Reused} reused records " +
                    $"({difference}); nothing was published. Run the job again: it re-scores everything under the new identity.");
            }
        }
    }

    /// <summary>A cancelled job may close with shards missing once none is running and each was skipped, or once the
    /// grace period for running shards has passed.</summary>
    private async Task<bool> CancelSettledAsync(JobRecord record, CancellationToken cancellationToken)
    {
        if (record.CancelRequestedAt is not { } requested || clock.GetUtcNow() - requested >= options.Value.CancelGracePeriod || record.PlannedAt is null)
        {
            return true;
        }

        var snapshot = await progress.GetSnapshotAsync(record.JobId, () => state.ReadShardOutcomeTotalsAsync(record, cancellationToken));
        return snapshot.ShardsRunning == 0 && snapshot.ShardsDone + snapshot.ShardsSkipped >= record.ShardCount;
    }

    private async Task RenewWhileMergingAsync(Guid jobId, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.FinalizeLeaseTimeout / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (!await state.RenewFinalizeLeaseAsync(jobId, _owner, clock.GetUtcNow(), cancellationToken))
                {
                    LogLeaseLost(jobId);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The merge ended.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage blip: the merge goes on. At worst the lease goes stale and another coordinator merges the same
            // shards into the same objects, which changes nothing.
            LogRenewalFailed(jobId, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} {Status}: {Ok} images classified, {Failed} errors, {NotClassified} not classified, {Seconds:F1} s")]
    private partial void LogCompleted(Guid jobId, JobStatus status, long ok, long failed, long notClassified, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the model {Model} could not be described from the model store ({Reason}); merging with the class names its records carry")]
    private partial void LogModelUndescribed(Guid jobId, string model, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed in its merge: {Reason}")]
    private partial void LogMergeFailed(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: renewing the merge lease failed: {Reason}")]
    private partial void LogRenewalFailed(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the merge lease was taken over by another coordinator while merging")]
    private partial void LogLeaseLost(Guid jobId);
}
