using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>What the schedule routes do: create (validated like a job: the job it would submit is checked), change,
/// remove, trigger and describe schedules. Who may see which schedule is the caller's concern.</summary>
public sealed partial class ScheduleService(
    ScheduleStore schedules,
    ScheduleRunStarter starter,
    JobSpecValidator validator,
    JobStateStore jobs,
    ModelIdentityResolver identities,
    IOptions<CoordinatorOptions> coordinator,
    IOptions<ScheduleOptions> options,
    TimeProvider clock,
    ILogger<ScheduleService> logger)
{
    /// <summary>Stores a new schedule of <paramref name="createdBy"/>. Throws <see cref="ScheduleValidationException"/>
    /// naming each problem.</summary>
    public async Task<ScheduleRecord> CreateAsync(ScheduleRequest request, string? createdBy, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            errors.Add("'name' is required.");
        }

        try
        {
            ScheduleCron.Parse(request.Cron, request.TimeZone);
        }
        catch (ScheduleValidationException e)
        {
            errors.AddRange(e.Errors);
        }

        var spec = new JobSpec
        {
            Dataset = request.Dataset ?? "",
            Model = request.Model ?? "",
            Output = request.Output,
            ShardSize = coordinator.Value.DefaultShardSize,
            TopK = request.TopK ?? 5,
            RandomWeights = request.RandomWeights ?? false,
            Seed = request.Seed ?? 0,
            Priority = request.Priority ?? JobPriority.Normal,
            Incremental = request.Incremental ?? true,
        };
        errors.AddRange(await validator.ValidateAsync(spec, cancellationToken));
        if (errors.Count > 0)
        {
            throw new ScheduleValidationException(errors);
        }

        var now = clock.GetUtcNow();
        var schedule = new ScheduleRecord
        {
            Id = NewId.NextGuid(),
            Name = request.Name!.Trim(),
            Spec = spec,
            Cron = request.Cron!.Trim(),
            TimeZone = string.IsNullOrWhiteSpace(request.TimeZone) ? ScheduleCron.DefaultTimeZone : request.TimeZone.Trim(),
            MissedRunPolicy = request.MissedRunPolicy ?? MissedRunPolicy.RunOnce,
            Overlap = request.Overlap ?? OverlapPolicy.Skip,
            OnModelUpdate = request.OnModelUpdate ?? ModelUpdatePolicy.None,
            CreatedBy = createdBy,
            CreatedAt = now,
            NotBefore = now,
            // The weights in place now are what a re-score on model update compares with.
            LastWeights = request.OnModelUpdate == ModelUpdatePolicy.Rescore ? (await identities.ResolveAsync(spec, cancellationToken))?.Weights : null,
        };
        await schedules.CreateAsync(schedule, cancellationToken);
        LogCreated(schedule.Id, schedule.Cron, schedule.TimeZone, createdBy);
        return schedule;
    }

    /// <summary>Pauses, resumes or re-times a schedule. A resumed or re-timed schedule counts due times from now, so
    /// nothing of the paused period is replayed. Returns null when it does not exist; throws
    /// <see cref="ScheduleValidationException"/> for a bad cron or zone.</summary>
    public async Task<ScheduleRecord?> UpdateAsync(Guid id, ScheduleUpdate update, CancellationToken cancellationToken)
    {
        if (await schedules.GetAsync(id, cancellationToken) is not { } current)
        {
            return null;
        }

        if (update.Cron is not null || update.TimeZone is not null)
        {
            ScheduleCron.Parse(update.Cron ?? current.Cron, update.TimeZone ?? current.TimeZone);
        }

        var now = clock.GetUtcNow();
        return await schedules.UpdateAsync(
            id,
            s =>
            {
                var next = s;
                if (update.Cron is not null || update.TimeZone is not null)
                {
                    next = next with { Cron = update.Cron?.Trim() ?? s.Cron, TimeZone = update.TimeZone?.Trim() ?? s.TimeZone, NotBefore = now };
                }

                if (update.Paused is true && !s.Paused)
                {
                    next = next with { Paused = true, WaitingDueAt = null, WaitingTrigger = null };
                }
                else if (update.Paused is false && s.Paused)
                {
                    next = next with { Paused = false, NotBefore = now };
                }

                return next;
            },
            cancellationToken);
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        var deleted = await schedules.DeleteAsync(id, cancellationToken);
        if (deleted)
        {
            LogDeleted(id);
        }

        return deleted;
    }

    /// <summary>Runs the schedule now: a run record for due time now, then its job (exactly once, like any due time).
    /// Throws what the job's submission throws when it is refused.</summary>
    public async Task<RunStart> TriggerAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        var dueAt = ScheduleRunner.TruncateToMilliseconds(clock.GetUtcNow());
        var runs = await schedules.ListRunsAsync(schedule.Id, cancellationToken);
        var start = await starter.StartAsync(schedule, dueAt, ScheduleTriggers.Manual, runs, cancellationToken);
        return start.Refusal is not null ? throw start.Refusal : start;
    }

    public Task<ScheduleRecord?> GetAsync(Guid id, CancellationToken cancellationToken) => schedules.GetAsync(id, cancellationToken);

    /// <summary>Every schedule of <paramref name="createdBy"/> (every schedule for null), oldest first.</summary>
    public async Task<IReadOnlyList<ScheduleRecord>> ListAsync(string? createdBy, CancellationToken cancellationToken)
    {
        var all = new List<ScheduleRecord>();
        await foreach (var schedule in schedules.ListAsync(cancellationToken))
        {
            if (createdBy is null || string.Equals(schedule.CreatedBy, createdBy, StringComparison.Ordinal))
            {
                all.Add(schedule);
            }
        }

        return [.. all.OrderBy(s => s.CreatedAt)];
    }

    /// <summary>The schedule as the API shows it, with its next due time and (with <paramref name="withRuns"/>) its
    /// recent runs, newest first.</summary>
    public async Task<ScheduleView> ViewAsync(ScheduleRecord schedule, bool withRuns, CancellationToken cancellationToken)
    {
        var runs = new List<ScheduleRunView>();
        if (withRuns)
        {
            var index = await jobs.LoadIndexAsync(cancellationToken);
            foreach (var run in (await schedules.ListRunsAsync(schedule.Id, cancellationToken)).Reverse().Take(options.Value.RecentRuns))
            {
                runs.Add(await RunViewAsync(run, index, cancellationToken));
            }
        }

        var now = clock.GetUtcNow();
        var next = schedule.Paused ? null : ScheduleCron.Parse(schedule.Cron, schedule.TimeZone).Next(schedule.CountFrom > now ? schedule.CountFrom : now);
        var spec = schedule.Spec;
        return new ScheduleView(
            schedule.Id, schedule.Name, spec.Dataset, spec.Model, schedule.Cron, schedule.TimeZone, spec.Output, spec.Priority, spec.Incremental, spec.TopK,
            spec.RandomWeights, spec.Seed, schedule.MissedRunPolicy, schedule.Overlap, schedule.OnModelUpdate, schedule.Paused, schedule.CreatedBy,
            schedule.CreatedAt, next, schedule.LastDueAt, schedule.WaitingDueAt, runs);
    }

    private async Task<ScheduleRunView> RunViewAsync(ScheduleRunRecord run, JobIndex index, CancellationToken cancellationToken)
    {
        if (run.SkippedReason is not null)
        {
            return new ScheduleRunView(run.DueAt, null, "Skipped", run.SkippedReason, run.Trigger);
        }

        if (run.Error is not null)
        {
            return new ScheduleRunView(run.DueAt, run.JobId, "NotStarted", run.Error, run.Trigger);
        }

        var job = index.Get(run.JobId!.Value) ?? await jobs.GetAsync(run.JobId!.Value, cancellationToken);
        return new ScheduleRunView(run.DueAt, run.JobId, job?.Status.ToString() ?? (run.JobStored ? "Removed" : "Starting"), null, run.Trigger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId} created by {CreatedBy}: cron {Cron} in {TimeZone}")]
    private partial void LogCreated(Guid scheduleId, string cron, string timeZone, string? createdBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId} removed (its jobs stay)")]
    private partial void LogDeleted(Guid scheduleId);
}
