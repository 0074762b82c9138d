using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>What the API and the CLI show about jobs: one job with live progress, or a page of the job index.</summary>
public sealed class JobQueries(JobStateStore state, JobProgressTracker progress, TimeProvider clock)
{
    public const int MaxPageSize = 1000;

    public async Task<JobView?> GetAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null)
        {
            return null;
        }

        // A finished job's counts are in its record; only an unfinished one consults (and loads) the tracker.
        var snapshot = record.Totals is { } totals && record.IsTerminal
            ? new JobProgressSnapshot(totals.ShardsDone, totals.ShardsFailed, 0, totals.ShardsSkipped, totals.ImagesOk, totals.ImagesFailed, null)
            : record.IsTerminal || record.PlannedAt is null
                ? JobProgressSnapshot.Empty
                : await progress.GetSnapshotAsync(jobId, () => state.ReadShardOutcomeTotalsAsync(record, cancellationToken));
        return JobViews.From(record, snapshot, clock.GetUtcNow());
    }

    /// <summary>A page of jobs, newest first, only <paramref name="submittedBy"/>'s when given. Throws
    /// <see cref="FormatException"/> for a cursor that is not one of ours.</summary>
    public async Task<JobListPage> ListAsync(JobStatus? status, int limit, string? cursor, CancellationToken cancellationToken, string? submittedBy = null)
    {
        var index = await state.LoadIndexAsync(cancellationToken);
        var (items, next) = index.Page(status, Math.Clamp(limit, 1, MaxPageSize), cursor, submittedBy);
        return new JobListPage([.. items.Select(JobViews.ListItem)], next);
    }
}

/// <summary>Maps job records onto the API's DTOs.</summary>
public static class JobViews
{
    public static JobView From(JobRecord record, JobProgressSnapshot snapshot, DateTimeOffset now)
    {
        var imagesDone = snapshot.ImagesOk + snapshot.ImagesFailed;
        var start = snapshot.FirstStartedAt ?? record.DispatchedAt;
        var end = record.CompletedAt ?? now;
        var seconds = start is { } s ? (end - s).TotalSeconds : 0;
        var rate = seconds > 0 ? imagesDone / seconds : 0;
        double? eta = !record.IsTerminal && record.Status != JobStatus.Cancelling && rate > 0 && imagesDone > 0
            ? Math.Round(Math.Max(0, record.ImageCount - (record.Incremental?.Reused ?? 0) - imagesDone) / rate, 1)
            : null;
        var queued = record.IsTerminal || record.PlannedAt is null
            ? 0
            : Math.Max(0, record.ShardCount - snapshot.ShardsDone - snapshot.ShardsRunning - snapshot.ShardsSkipped);
        return new JobView(
            record.JobId,
            record.Status,
            record.Spec.Model,
            record.Spec.Dataset,
            record.Output,
            record.Spec.Priority,
            record.ImageCount,
            record.ShardCount,
            snapshot.ShardsDone,
            snapshot.ImagesOk,
            snapshot.ImagesFailed,
            record.Totals?.ImagesNotClassified ?? 0,
            record.SubmittedAt,
            record.DispatchedAt,
            record.CancelRequestedAt,
            record.CompletedAt,
            record.Error,
            new JobProgress(queued, snapshot.ShardsRunning, snapshot.ShardsSucceeded, snapshot.ShardsFailed, snapshot.ShardsSkipped, imagesDone, Math.Round(rate, 2), eta),
            record.SubmittedBy,
            record.ScheduleId,
            record.DueAt,
            record.Incremental?.Reused ?? 0);
    }

    public static JobListItem ListItem(JobRecord record) => new(
        record.JobId, record.Status, record.Spec.Model, record.Spec.Dataset, record.Output, record.Spec.Priority, record.ImageCount, record.SubmittedAt, record.CompletedAt,
        record.SubmittedBy, record.ScheduleId, record.DueAt);
}
