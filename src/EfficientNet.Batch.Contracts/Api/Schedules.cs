namespace EfficientNet.Batch.Contracts.Api;

/// <summary>What a schedule does with due times that passed while the coordinator was down.</summary>
public enum MissedRunPolicy
{
    /// <summary>One catch-up run, for the latest missed due time.</summary>
    RunOnce,

    /// <summary>No run; each missed due time is recorded as a skipped run.</summary>
    Skip,
}

/// <summary>What a schedule does when a due time comes while its previous run is unfinished.</summary>
public enum OverlapPolicy
{
    /// <summary>The due time is recorded as a skipped run, with the reason.</summary>
    Skip,

    /// <summary>The due time waits, and runs once the previous run ends.</summary>
    Wait,
}

/// <summary>What a schedule does when the weights of its model change.</summary>
public enum ModelUpdatePolicy
{
    None,

    /// <summary>Run at once (due time = the moment the change is seen).</summary>
    Rescore,
}

/// <summary>Body of <c>POST /schedules</c>. Every member is optional here so that a missing one is reported by name.</summary>
/// <param name="Name">A name for people.</param>
/// <param name="Cron">5 fields (minute hour day month weekday) or 6 (seconds first).</param>
/// <param name="TimeZone">The zone the cron is read in (<c>TimeZoneInfo</c> id, default <c>UTC</c>).</param>
/// <param name="Output">A fixed output every run writes to (each run takes over the previous run's output); default:
/// a new output per run.</param>
/// <param name="Incremental">Reuse the records of the previous completed run where nothing changed (default true).</param>
public sealed record ScheduleRequest(
    string? Name,
    string? Dataset,
    string? Model,
    string? Cron,
    string? TimeZone = null,
    string? Output = null,
    JobPriority? Priority = null,
    bool? Incremental = null,
    int? TopK = null,
    bool? RandomWeights = null,
    int? Seed = null,
    MissedRunPolicy? MissedRunPolicy = null,
    OverlapPolicy? Overlap = null,
    ModelUpdatePolicy? OnModelUpdate = null);

/// <summary>Body of <c>PATCH /schedules/{id}</c>: pause, resume, change the cron or its zone. A resumed schedule or a
/// changed cron counts its next due time from now: due times of the paused period are not replayed.</summary>
public sealed record ScheduleUpdate(bool? Paused = null, string? Cron = null, string? TimeZone = null);

/// <summary>A schedule: what it submits, when, and its recent runs (newest first).</summary>
/// <param name="NextDueAt">The next due time; null while paused.</param>
/// <param name="LastDueAt">The last due time the schedule handled (ran, or recorded as skipped).</param>
/// <param name="WaitingDueAt">A due time waiting for the previous run to end (overlap <c>wait</c>, or a model update).</param>
public sealed record ScheduleView(
    Guid Id,
    string Name,
    string Dataset,
    string Model,
    string Cron,
    string TimeZone,
    string? Output,
    JobPriority Priority,
    bool Incremental,
    int TopK,
    bool RandomWeights,
    int Seed,
    MissedRunPolicy MissedRunPolicy,
    OverlapPolicy Overlap,
    ModelUpdatePolicy OnModelUpdate,
    bool Paused,
    string? CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextDueAt,
    DateTimeOffset? LastDueAt,
    DateTimeOffset? WaitingDueAt,
    IReadOnlyList<ScheduleRunView> RecentRuns);

/// <summary>One due time of a schedule.</summary>
/// <param name="Status">The job's status, or <c>Skipped</c>, <c>NotStarted</c> (the job was refused: see
/// <paramref name="Reason"/>) or <c>Starting</c> (decided, the job not stored yet).</param>
/// <param name="Trigger"><c>cron</c>, <c>catchUp</c>, <c>manual</c> or <c>modelUpdate</c>.</param>
public sealed record ScheduleRunView(DateTimeOffset DueAt, Guid? JobId, string Status, string? Reason, string Trigger);

/// <summary>Answer of <c>GET /schedules</c>.</summary>
public sealed record ScheduleList(IReadOnlyList<ScheduleView> Items);

/// <summary>Answer of <c>POST /schedules/{id}/trigger</c>.</summary>
public sealed record ScheduleTriggered(Guid JobId, DateTimeOffset DueAt);
