using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>
/// Fires schedules, every <see cref="ScheduleOptions.TickInterval"/>. Each due time gets exactly one decision, even
/// across crashes and concurrent coordinators: the decision (a run record, written if absent) comes before the job,
/// the job's id is derived from (schedule, due time), and a decided run whose job is missing is completed by whoever
/// sees it. After downtime the missed due times run once (for the latest) or are recorded as skipped; a due time
/// never starts while the previous run is unfinished (skipped, or waiting for it); a paused schedule fires nothing.
/// </summary>
public sealed partial class ScheduleRunner(
    ScheduleStore schedules,
    ScheduleRunStarter starter,
    JobStateStore jobs,
    ModelIdentityResolver identities,
    IOptions<ScheduleOptions> options,
    TimeProvider clock,
    ILogger<ScheduleRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TickInterval, clock);
        do
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage unavailable: nothing was decided that is not durable; the next tick carries on.
                LogTickFailed(e.GetType().Name, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over every schedule.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        var all = new List<ScheduleRecord>();
        await foreach (var schedule in schedules.ListAsync(cancellationToken))
        {
            all.Add(schedule);
        }

        foreach (var schedule in all)
        {
            try
            {
                await TickAsync(schedule, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // One schedule's trouble (its dataset's storage down, say) must not stop the others; it is tried again next tick.
                LogScheduleFailed(schedule.Id, e.GetType().Name, e.Message);
            }
        }
    }

    public static DateTimeOffset TruncateToMilliseconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private async Task TickAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        var runs = await schedules.ListRunsAsync(schedule.Id, cancellationToken);

        // Decisions whose job may be missing: a coordinator died between the run record and the job, or another one is
        // creating it right now. Either way the job gets the derived id, so it exists once.
        foreach (var run in runs.Where(r => r.Unsettled))
        {
            await starter.EnsureJobAsync(schedule, run, runs, cancellationToken);
        }

        if (schedule.Paused)
        {
            return;
        }

        var cron = ScheduleCron.Parse(schedule.Cron, schedule.TimeZone);
        var now = clock.GetUtcNow();
        var previous = new PreviousRun(runs, jobs);

        if (schedule.OnModelUpdate == ModelUpdatePolicy.Rescore)
        {
            schedule = await CheckModelAsync(schedule, now, cancellationToken) ?? schedule;
        }

        if (schedule.WaitingDueAt is { } waiting && !await previous.IsUnfinishedAsync(cancellationToken))
        {
            await starter.StartAsync(schedule, waiting, schedule.WaitingTrigger ?? ScheduleTriggers.Cron, runs, cancellationToken);
            schedule = await schedules.UpdateAsync(
                schedule.Id, s => s.WaitingDueAt == waiting ? s with { WaitingDueAt = null, WaitingTrigger = null } : s, cancellationToken) ?? schedule;
            runs = await schedules.ListRunsAsync(schedule.Id, cancellationToken);
            previous = new PreviousRun(runs, jobs);
        }

        var settings = options.Value;
        var (count, latest) = cron.Between(schedule.CountFrom, now, settings.RecentRuns);
        if (count == 0)
        {
            await PruneAsync(schedule, runs, cancellationToken);
            return;
        }

        var due = latest[^1];
        var late = now - due > settings.MissedAfter;
        if (count > 1 && now - latest[0] > settings.MissedAfter)
        {
            LogMissed(schedule.Id, count - 1, due);
        }

        if (schedule.MissedRunPolicy == MissedRunPolicy.Skip)
        {
            foreach (var missed in latest.Where(d => (d < due || late) && now - d > settings.MissedAfter))
            {
                await starter.SkipAsync(schedule, missed, ScheduleTriggers.CatchUp, SkipReasons.Missed, cancellationToken);
            }

            if (late)
            {
                await AdvanceAsync(schedule, due, waiting: null, cancellationToken);
                return;
            }
        }

        var trigger = late ? ScheduleTriggers.CatchUp : ScheduleTriggers.Cron;
        DateTimeOffset? wait = null;
        if (await previous.IsUnfinishedAsync(cancellationToken))
        {
            if (schedule.Overlap == OverlapPolicy.Wait && schedule.WaitingDueAt is null)
            {
                wait = due;
                LogWaiting(schedule.Id, due, previous.JobId!.Value);
            }
            else
            {
                var reason = schedule.Overlap == OverlapPolicy.Wait ? SkipReasons.AlreadyWaiting : SkipReasons.Overlap(previous.JobId!.Value);
                await starter.SkipAsync(schedule, due, trigger, reason, cancellationToken);
            }
        }
        else
        {
            var start = await starter.StartAsync(schedule, due, trigger, runs, cancellationToken);
            if (start.Job is not null && schedule.OnModelUpdate == ModelUpdatePolicy.Rescore)
            {
                await RememberWeightsAsync(schedule, cancellationToken);
            }
        }

        await AdvanceAsync(schedule, due, wait, cancellationToken);
        await PruneAsync(schedule, runs, cancellationToken);
    }

    /// <summary>Moves <see cref="ScheduleRecord.LastDueAt"/> forward (never back), with optimistic concurrency.</summary>
    private Task<ScheduleRecord?> AdvanceAsync(ScheduleRecord schedule, DateTimeOffset due, DateTimeOffset? waiting, CancellationToken cancellationToken) =>
        schedules.UpdateAsync(
            schedule.Id,
            s => s.LastDueAt >= due
                ? s
                : s with
                {
                    LastDueAt = due,
                    WaitingDueAt = s.WaitingDueAt ?? waiting,
                    WaitingTrigger = s.WaitingDueAt is null && waiting is not null ? ScheduleTriggers.Cron : s.WaitingTrigger,
                },
            cancellationToken);

    /// <summary>With <see cref="ModelUpdatePolicy.Rescore"/>: weights other than those of the last run make a run due now
    /// (claimed on the schedule with optimistic concurrency, so two coordinators make one run of it).</summary>
    private async Task<ScheduleRecord?> CheckModelAsync(ScheduleRecord schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var weights = (await identities.ResolveAsync(schedule.Spec, cancellationToken))?.Weights;
        if (weights is null || weights == schedule.LastWeights)
        {
            return null;
        }

        var seen = schedule.LastWeights;
        var due = TruncateToMilliseconds(now);
        if (seen is not null)
        {
            LogModelChanged(schedule.Id, seen, weights);
        }

        return await schedules.UpdateAsync(
            schedule.Id,
            s => s.LastWeights != seen
                ? s
                : seen is null
                    ? s with { LastWeights = weights }
                    : s with
                    {
                        LastWeights = weights,
                        WaitingDueAt = s.WaitingDueAt ?? due,
                        WaitingTrigger = s.WaitingDueAt is null ? ScheduleTriggers.ModelUpdate : s.WaitingTrigger,
                    },
            cancellationToken);
    }

    private async Task RememberWeightsAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        if ((await identities.ResolveAsync(schedule.Spec, cancellationToken))?.Weights is { } weights)
        {
            await schedules.UpdateAsync(schedule.Id, s => s with { LastWeights = weights }, cancellationToken);
        }
    }

    private Task PruneAsync(ScheduleRecord schedule, IReadOnlyList<ScheduleRunRecord> runs, CancellationToken cancellationToken) =>
        runs.Count > options.Value.RunsKept
            ? schedules.PruneRunsAsync([.. runs.Where(r => !r.Unsettled)], options.Value.RunsKept, schedule.CountFrom, cancellationToken)
            : Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule tick failed ({Error}: {Reason}); the next tick tries again")]
    private partial void LogTickFailed(string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {ScheduleId} could not be handled this tick ({Error}: {Reason}); the next tick tries again")]
    private partial void LogScheduleFailed(Guid scheduleId, string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: {Missed} due times before {DueAt} were missed")]
    private partial void LogMissed(Guid scheduleId, long missed, DateTimeOffset dueAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: due time {DueAt} waits for job {JobId} to finish")]
    private partial void LogWaiting(Guid scheduleId, DateTimeOffset dueAt, Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: the model's weights changed ({Before} → {After}); re-scoring")]
    private partial void LogModelChanged(Guid scheduleId, string before, string after);

    /// <summary>The schedule's latest run that has a job, looked up once per tick.</summary>
    private sealed class PreviousRun(IReadOnlyList<ScheduleRunRecord> runs, JobStateStore jobs)
    {
        private readonly ScheduleRunRecord? _run = runs.LastOrDefault(r => r.WantsJob);
        private bool? _unfinished;

        public Guid? JobId => _run?.JobId;

        public async Task<bool> IsUnfinishedAsync(CancellationToken cancellationToken)
        {
            if (_unfinished is { } known)
            {
                return known;
            }

            // A job not stored yet (being created) counts as unfinished; a removed one as finished.
            var job = _run?.JobId is { } id ? await jobs.GetAsync(id, cancellationToken) : null;
            _unfinished = _run is not null && (job is null ? !_run.JobStored : !job.IsTerminal);
            return _unfinished.Value;
        }
    }
}
