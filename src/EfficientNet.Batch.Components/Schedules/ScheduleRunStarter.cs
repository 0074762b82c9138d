using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>
/// Turns a schedule's decided due time into its one job: the run record is written if absent first, then the job is
/// submitted under the id derived from (schedule, due time). Whoever finds a decided run whose job is missing (its
/// coordinator died in between, or another coordinator is creating it right now) submits it again under the same id;
/// the job record is written if absent, so exactly one job exists either way.
/// </summary>
public sealed partial class ScheduleRunStarter(
    ScheduleStore schedules,
    JobStateStore jobs,
    JobSubmission submission,
    IOptions<CoordinatorOptions> coordinator,
    IOptions<ScheduleOptions> options,
    TimeProvider clock,
    ILogger<ScheduleRunStarter> logger)
{
    private const int BaselineLookBack = 20;

    /// <summary>Decides <paramref name="dueAt"/> as a run of <paramref name="schedule"/> (unless already decided) and
    /// makes sure its job exists.</summary>
    public async Task<RunStart> StartAsync(
        ScheduleRecord schedule, DateTimeOffset dueAt, string trigger, IReadOnlyList<ScheduleRunRecord> history, CancellationToken cancellationToken)
    {
        var (run, created) = await schedules.TryCreateRunAsync(
            new ScheduleRunRecord
            {
                ScheduleId = schedule.Id,
                DueAt = dueAt,
                Trigger = trigger,
                CreatedAt = clock.GetUtcNow(),
                JobId = ScheduleJobIds.For(schedule.Id, dueAt),
            },
            cancellationToken);
        if (created)
        {
            LogRunDecided(schedule.Id, dueAt, trigger, run.JobId!.Value);
        }

        return run.Unsettled ? await EnsureJobAsync(schedule, run, history, cancellationToken) : new RunStart(run, null, null);
    }

    /// <summary>Records a due time that does not run, with its reason (unless already decided otherwise).</summary>
    public async Task SkipAsync(ScheduleRecord schedule, DateTimeOffset dueAt, string trigger, string reason, CancellationToken cancellationToken)
    {
        var (_, created) = await schedules.TryCreateRunAsync(
            new ScheduleRunRecord { ScheduleId = schedule.Id, DueAt = dueAt, Trigger = trigger, CreatedAt = clock.GetUtcNow(), SkippedReason = reason },
            cancellationToken);
        if (created)
        {
            LogRunSkipped(schedule.Id, dueAt, reason);
        }
    }

    /// <summary>Makes sure the job of a decided run exists, creating it under the derived id when it does not.</summary>
    public async Task<RunStart> EnsureJobAsync(
        ScheduleRecord schedule, ScheduleRunRecord run, IReadOnlyList<ScheduleRunRecord> history, CancellationToken cancellationToken)
    {
        var jobId = run.JobId ?? throw new ArgumentException("A skipped run has no job.", nameof(run));
        if (await jobs.GetAsync(jobId, cancellationToken) is { } existing)
        {
            await DispatchIfStuckAsync(existing, cancellationToken);
            return await SettledAsync(run, existing, cancellationToken);
        }

        var baseline = schedule.Spec.Incremental ? await BaselineAsync(history, run.DueAt, cancellationToken) : null;
        try
        {
            // A fixed output is the same for every run: each run takes over the previous (finished) run's output.
            var job = await submission.SubmitAsync(
                jobId,
                schedule.Spec,
                overwrite: schedule.Spec.Output is not null,
                cancellationToken,
                schedule.CreatedBy,
                new JobOrigin(ScheduleId: schedule.Id.ToString(), DueAt: run.DueAt, BaselineJobId: baseline));
            LogJobCreated(schedule.Id, run.DueAt, jobId, baseline);
            return await SettledAsync(run, job, cancellationToken);
        }
        catch (BlobConditionFailedException)
        {
            // Another coordinator (or an earlier attempt) stored it first: the job exists, which is all that is wanted.
            return await SettledAsync(run, await jobs.GetAsync(jobId, cancellationToken), cancellationToken);
        }
        catch (Exception e) when (e is JobValidationException or OutputConflictException or JobLimitException)
        {
            if (await jobs.GetAsync(jobId, cancellationToken) is { } raced)
            {
                return await SettledAsync(run, raced, cancellationToken);
            }

            // An output still held by another job, or an owner at its limit of unfinished jobs, may clear within a tick
            // or two (another coordinator's index can also be a moment behind): a cron run tries again until it is
            // late. A bad job, or a trigger (its caller is answered now), is refused for good.
            if (e is not JobValidationException && run.Trigger != ScheduleTriggers.Manual && clock.GetUtcNow() - run.DueAt <= options.Value.MissedAfter)
            {
                LogJobDeferred(schedule.Id, run.DueAt, e.Message);
                return new RunStart(run, null, e);
            }

            await schedules.UpdateRunAsync(run.ScheduleId, run.DueAt, r => r.JobStored || r.Error is not null ? r : r with { Error = e.Message }, cancellationToken);
            LogJobRefused(schedule.Id, run.DueAt, e.Message);
            return new RunStart(run with { Error = e.Message }, null, e);
        }
    }

    /// <summary>The most recent earlier run whose job completed (with or without errors): what an incremental run reuses.</summary>
    private async Task<Guid?> BaselineAsync(IReadOnlyList<ScheduleRunRecord> history, DateTimeOffset before, CancellationToken cancellationToken)
    {
        foreach (var previous in history.Where(r => r.WantsJob && r.DueAt < before).OrderByDescending(r => r.DueAt).Take(BaselineLookBack))
        {
            if (await jobs.GetAsync(previous.JobId!.Value, cancellationToken) is { Status: JobStatus.Completed or JobStatus.CompletedWithErrors } job)
            {
                return job.JobId;
            }
        }

        return null;
    }

    private async Task<RunStart> SettledAsync(ScheduleRunRecord run, JobRecord? job, CancellationToken cancellationToken)
    {
        if (job is null)
        {
            return new RunStart(run, null, null);
        }

        await schedules.UpdateRunAsync(run.ScheduleId, run.DueAt, r => r with { JobStored = true }, cancellationToken);
        return new RunStart(run with { JobStored = true }, job, null);
    }

    // A job stored by a coordinator that died before asking for its dispatch: ask now (the sweep would, later).
    private async Task DispatchIfStuckAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (job.Status == JobStatus.Submitted && clock.GetUtcNow() - job.SubmittedAt >= coordinator.Value.SubmitTimeout)
        {
            await submission.RequestDispatchAsync(job, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: due time {DueAt} decided ({Trigger}), job {JobId}")]
    private partial void LogRunDecided(Guid scheduleId, DateTimeOffset dueAt, string trigger, Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: due time {DueAt} skipped: {Reason}")]
    private partial void LogRunSkipped(Guid scheduleId, DateTimeOffset dueAt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: job {JobId} created for due time {DueAt} (baseline {Baseline})")]
    private partial void LogJobCreated(Guid scheduleId, DateTimeOffset dueAt, Guid jobId, Guid? baseline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: the job for due time {DueAt} cannot start yet ({Reason}); the next tick tries again")]
    private partial void LogJobDeferred(Guid scheduleId, DateTimeOffset dueAt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {ScheduleId}: the job for due time {DueAt} was refused: {Reason}")]
    private partial void LogJobRefused(Guid scheduleId, DateTimeOffset dueAt, string reason);
}

/// <summary>What became of a decided run: its record, its job when it exists, and why it was refused when it was.</summary>
public sealed record RunStart(ScheduleRunRecord Run, JobRecord? Job, Exception? Refusal);
