namespace EfficientNet.Batch.Contracts.Api;

/// <summary>Where a job stands. Terminal: <see cref="Completed"/>, <see cref="CompletedWithErrors"/>,
/// <see cref="Failed"/> and <see cref="Cancelled"/>.</summary>
public enum JobStatus
{
    /// <summary>Accepted and stored; the dataset is not listed yet (or the broker was down and dispatch waits).</summary>
    Submitted,

    /// <summary>Shards are planned and sent; waiting for workers.</summary>
    Running,

    /// <summary>Every shard done and the outputs committed; some images may be error records.</summary>
    Completed,

    /// <summary>Outputs committed, but at least one whole shard failed (its images are error records).</summary>
    CompletedWithErrors,

    /// <summary>The job could not run at all (e.g. the dataset cannot be listed, or the merge found the wrong number of
    /// lines).</summary>
    Failed,

    /// <summary>Cancel requested: workers skip its queued shards and stop the running ones; the committed shards are
    /// merged next.</summary>
    Cancelling,

    /// <summary>Cancelled: the shards committed before the cancel are merged, the rest were not classified.</summary>
    Cancelled,
}

public static class JobStatusExtensions
{
    /// <summary>The job will not change any more.</summary>
    public static bool IsTerminal(this JobStatus status) =>
        status is JobStatus.Completed or JobStatus.CompletedWithErrors or JobStatus.Failed or JobStatus.Cancelled;
}
