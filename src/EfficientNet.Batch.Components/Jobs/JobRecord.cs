using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Jobs;

public enum JobStatus
{
    /// <summary>Accepted; the dataset is not listed yet.</summary>
    Submitted,

    /// <summary>Shards are dispatched; waiting for workers.</summary>
    Running,

    /// <summary>Every shard done and the outputs committed; some images may be error records.</summary>
    Completed,

    /// <summary>Outputs committed, but at least one whole shard failed (its images are error records).</summary>
    CompletedWithErrors,

    /// <summary>The job could not run at all (e.g. the dataset cannot be listed).</summary>
    Failed,
}

public static class JobStatusExtensions
{
    /// <summary>The job will not change any more.</summary>
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Completed or JobStatus.CompletedWithErrors or JobStatus.Failed;
}

/// <summary>The durable state of a job, stored as <c>jobs/{id}/job.json</c> in the coordinator's state store.</summary>
public sealed record JobRecord
{
    public required Guid JobId { get; init; }

    public required JobSpec Spec { get; init; }

    public required JobStatus Status { get; init; }

    /// <summary>Resolved output location (the spec's, or the coordinator's default plus the job id).</summary>
    public required string Output { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    public DateTimeOffset? DispatchedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public int ShardCount { get; init; }

    public long ImageCount { get; init; }

    /// <summary>Files under the dataset prefix that are not images (listed, not classified).</summary>
    public long SkippedFiles { get; init; }

    public string? Error { get; init; }

    public bool IsTerminal => Status.IsTerminal();
}

/// <summary>What became of one shard, stored as <c>jobs/{id}/shards/{index}.json</c>.</summary>
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
    string? Precision = null);

/// <summary>Marks which coordinator merges a job, so two coordinators never merge the same job at once.</summary>
public sealed record FinalizeLease(string Owner, DateTimeOffset AcquiredAt);
