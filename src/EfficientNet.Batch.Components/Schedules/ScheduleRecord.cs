using System.Text.Json.Serialization;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>A schedule, stored as <c>schedules/{id}.json</c> in the coordinator's state store and updated with
/// optimistic concurrency.</summary>
public sealed record ScheduleRecord
{
    public required Guid Id { get; init; }

    public required string Name { get; init; }

    /// <summary>The job every run submits (its <see cref="JobSpec.Incremental"/> says whether runs reuse the previous one).</summary>
    public required JobSpec Spec { get; init; }

    public required string Cron { get; init; }

    public required string TimeZone { get; init; }

    public MissedRunPolicy MissedRunPolicy { get; init; }

    public OverlapPolicy Overlap { get; init; }

    public ModelUpdatePolicy OnModelUpdate { get; init; }

    public bool Paused { get; init; }

    /// <summary>The identity that created the schedule: its jobs are submitted as this identity, and only it and an
    /// admin see the schedule.</summary>
    public string? CreatedBy { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Due times count from here (creation, resume, cron change): nothing earlier is ever replayed.</summary>
    public required DateTimeOffset NotBefore { get; init; }

    /// <summary>The last cron due time handled: run, or recorded as skipped. Advanced with optimistic concurrency.</summary>
    public DateTimeOffset? LastDueAt { get; init; }

    /// <summary>A due time that waits for the previous run to end (overlap <c>wait</c>, or a model update).</summary>
    public DateTimeOffset? WaitingDueAt { get; init; }

    public string? WaitingTrigger { get; init; }

    /// <summary>The model's weights identity (<see cref="Incremental.ModelIdentity.Weights"/>) when the last run was
    /// created; a different one starts a run for <see cref="ModelUpdatePolicy.Rescore"/>.</summary>
    public string? LastWeights { get; init; }

    /// <summary>Where due times start counting: the later of <see cref="NotBefore"/> and <see cref="LastDueAt"/>.</summary>
    [JsonIgnore]
    public DateTimeOffset CountFrom => LastDueAt is { } last && last > NotBefore ? last : NotBefore;
}

/// <summary>One due time of a schedule, stored as <c>schedule-runs/{id}/{dueAt:yyyyMMddTHHmmssfffZ}.json</c>. It is
/// written if absent before its job exists, so each due time has exactly one decision: a job with the id derived from
/// (schedule, due time) (<see cref="ScheduleJobIds"/>), or a skip with its reason.</summary>
public sealed record ScheduleRunRecord
{
    public required Guid ScheduleId { get; init; }

    public required DateTimeOffset DueAt { get; init; }

    /// <summary><see cref="ScheduleTriggers"/>: why the run exists.</summary>
    public required string Trigger { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The run's job (derived from schedule and due time); null for a skipped run.</summary>
    public Guid? JobId { get; init; }

    public string? SkippedReason { get; init; }

    /// <summary>Set once the job is known to be stored, so a job removed later (<c>DELETE /jobs/{id}</c>) is never
    /// created again.</summary>
    public bool JobStored { get; init; }

    /// <summary>Why the job was refused at submission (the dataset is no longer allowed, a limit, …).</summary>
    public string? Error { get; init; }

    [JsonIgnore]
    public bool WantsJob => JobId is not null && Error is null;

    /// <summary>Decided, but its job may not exist yet (a coordinator may have died in between).</summary>
    [JsonIgnore]
    public bool Unsettled => WantsJob && !JobStored;
}

/// <summary>Why a run exists.</summary>
public static class ScheduleTriggers
{
    public const string Cron = "cron";
    public const string CatchUp = "catchUp";
    public const string Manual = "manual";
    public const string ModelUpdate = "modelUpdate";
}

/// <summary>Reasons of skipped runs, shown as they are.</summary>
public static class SkipReasons
{
    public const string Missed = "missed while the coordinator was down";

    public const string AlreadyWaiting = "another due time was already waiting for the previous run to finish";

    public static string Overlap(Guid previousJob) => $"the previous run (job {previousJob}) was still running";
}
