using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>The durable state of a job, stored as <c>jobs/{id}.json</c> in the coordinator's state store.</summary>
public sealed record JobRecord
{
    public required Guid JobId { get; init; }

    public required JobSpec Spec { get; init; }

    public required JobStatus Status { get; init; }

    /// <summary>Resolved output location (the spec's, or the coordinator's default plus the job id).</summary>
    public required string Output { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    /// <summary>The identity that submitted the job (<c>key:{name}</c>, <c>jwt:{subject}</c> or <c>anonymous</c>); only
    /// it and an admin see the job. Null for jobs stored before identities were recorded: those are an admin's.</summary>
    public string? SubmittedBy { get; init; }

    /// <summary>Set once the shards are planned (<see cref="ShardCount"/> and <see cref="ImageCount"/> known), before
    /// the first shard message is sent, so that a shard event can never arrive for an unplanned job.</summary>
    public DateTimeOffset? PlannedAt { get; init; }

    /// <summary>Set once every shard message was sent.</summary>
    public DateTimeOffset? DispatchedAt { get; init; }

    /// <summary>Pages of the stored shard plan (<see cref="Shards.ShardPlanPage"/>), set with <see cref="PlannedAt"/>: a
    /// coordinator that restarts mid-dispatch sends the rest from them, without listing the dataset again. Null for a
    /// job planned before plans were stored (its dispatch lists the dataset again).</summary>
    public int? PlanPages { get; init; }

    /// <summary>Plan pages whose shard messages were all sent: where a restarted dispatch resumes.</summary>
    public int DispatchedPages { get; init; }

    public DateTimeOffset? CancelRequestedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public int ShardCount { get; init; }

    public long ImageCount { get; init; }

    /// <summary>Files under the dataset prefix that are not images (listed, not classified).</summary>
    public long SkippedFiles { get; init; }

    /// <summary>Final counts, written when the job ends (so that a finished job's status needs no shard listing).</summary>
    public JobTotals? Totals { get; init; }

    /// <summary>A later job that was allowed to overwrite this one's output (<c>"overwrite": true</c>).</summary>
    public Guid? OutputTakenOverBy { get; init; }

    public string? Error { get; init; }

    /// <summary>The schedule that started the job, and the due time it ran for (null for a job submitted directly).</summary>
    public string? ScheduleId { get; init; }

    public DateTimeOffset? DueAt { get; init; }

    /// <summary>An incremental job's previous run: a job whose records are reused where nothing changed.</summary>
    public Guid? BaselineJobId { get; init; }

    /// <summary>An incremental job's previous run given as an output location (<c>effnet run</c>: its own --out).</summary>
    public string? BaselineLocation { get; init; }

    /// <summary>What an incremental job decided when it was planned: the model identity it expects and how many
    /// records it reuses (set with <see cref="PlannedAt"/>).</summary>
    public IncrementalPlanInfo? Incremental { get; init; }

    /// <summary>The location the job's image paths are relative to (set when the dataset is listed).</summary>
    public string? DatasetRoot { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the job's root span (<see cref="Telemetry.JobTracing.Spans.Submit"/>), so
    /// that what runs later — the dispatch, the merge triggered by whichever shard event comes last, a sweep's recovery
    /// after a restart — joins the job's one trace instead of starting another. Null for jobs stored before traces
    /// were recorded, or submitted while no tracer listened.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>, when there is one.</summary>
    public string? TraceState { get; init; }

    public bool IsTerminal => Status.IsTerminal();
}

/// <summary>What a finished job produced.</summary>
public sealed record JobTotals(int ShardsDone, int ShardsFailed, int ShardsSkipped, long ImagesOk, long ImagesFailed, long ImagesNotClassified);

/// <summary>What became of one shard, stored as <c>shards/{id}/{index}.json</c>.</summary>
public sealed record ShardOutcome(
    int ShardIndex,
    bool Succeeded,
    int ImagesOk,
    int ImagesFailed,
    string ResultLocation,
    string? Worker,
    double Seconds,
    string? Reason,
    string? Weights = null,
    string? ExecutionProvider = null,
    Preprocessing? Preprocessing = null,
    string? Precision = null,
    string? WeightsSha256 = null,
    bool Untrained = false);

/// <summary>Marks which coordinator merges a job, so two coordinators never merge the same job at once. The holder
/// renews <see cref="RenewedAt"/> while it merges; a lease not renewed for the lease timeout belongs to a dead one.</summary>
public sealed record FinalizeLease(string Owner, DateTimeOffset AcquiredAt, DateTimeOffset? RenewedAt = null)
{
    public DateTimeOffset LastSeen => RenewedAt ?? AcquiredAt;
}

/// <summary>What an incremental job decided when it was planned.</summary>
/// <param name="Identity">The model identity the job runs under (null when it could not be known before classifying).</param>
/// <param name="Baseline">The previous run considered, described for people; null when there was none.</param>
/// <param name="FullReason">Why nothing was reused (no previous run, another model identity, …); null when records were reused.</param>
/// <param name="Reused">Images whose previous record is reused.</param>
/// <param name="New">Images the previous run did not have.</param>
/// <param name="Changed">Images whose content changed since the previous run.</param>
/// <param name="Removed">Images of the previous run that are gone.</param>
/// <param name="PlanKey">The plan object under the job's output (reused records and changes, in dataset order).</param>
public sealed record IncrementalPlanInfo(
    EfficientNet.Batch.Components.Incremental.ModelIdentity? Identity,
    string? Baseline,
    string? FullReason,
    long Reused,
    long New,
    long Changed,
    long Removed,
    string PlanKey);
