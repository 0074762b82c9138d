namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Names of the objects a job writes under its output location. Shard results are job-scoped
/// (<c>shards/{jobId}/…</c>), so not even an overwrite of a finished job's output can mix two jobs' shards, and their
/// names are deterministic, so a redelivered shard overwrites its own result rather than duplicating it.
/// </summary>
public static class JobOutputLayout
{
    public const string PredictionsName = "predictions.jsonl";
    public const string SummaryName = "summary.json";
    public const string ChangesName = "changes.jsonl";

    /// <summary>The folder of every job's working files under an output location.</summary>
    public const string ShardsRoot = "shards";

    public static string ShardsFolder(Guid jobId) => $"{ShardsRoot}/{jobId:N}";

    /// <summary>A worker's result for one shard.</summary>
    public static string ResultKey(Guid jobId, int shardIndex) => $"{ShardsFolder(jobId)}/shard-{shardIndex:D6}.jsonl";

    /// <summary>The error records the coordinator writes for a shard that failed after every retry: a different name
    /// from <see cref="ResultKey"/>, so that a late failure can never overwrite a committed success.</summary>
    public static string FailedResultKey(Guid jobId, int shardIndex) => $"{ShardsFolder(jobId)}/shard-{shardIndex:D6}.failed.jsonl";

    /// <summary>How often the broker has delivered a shard to a worker (<c>ShardDeliveries</c>): a count that outlives
    /// the worker processes a shard kills. Not a result: the merge never reads it.</summary>
    public static string DeliveriesKey(Guid jobId, int shardIndex) => $"{ShardsFolder(jobId)}/shard-{shardIndex:D6}.deliveries";

    /// <summary>Present once the job is cancelled: a worker that missed the <c>JobCancelled</c> event still skips the
    /// job's queued shards.</summary>
    public static string CancelMarkerKey(Guid jobId) => $"{ShardsFolder(jobId)}/cancelled";

    /// <summary>An incremental job's plan: reused records and images to classify, in dataset order.</summary>
    public static string IncrementalPlanKey(Guid jobId) => $"{ShardsFolder(jobId)}/incremental.jsonl";

    /// <summary>The model identity a job was planned with (what makes its committed shards reusable after an interruption).</summary>
    public static string PlannedRunKey(Guid jobId) => $"{ShardsFolder(jobId)}/identity.json";

    public static string PredictionsLocation(JobRecord job) => StorageKeys.JoinLocation(job.Output, PredictionsName);

    public static string SummaryLocation(JobRecord job) => StorageKeys.JoinLocation(job.Output, SummaryName);
}
