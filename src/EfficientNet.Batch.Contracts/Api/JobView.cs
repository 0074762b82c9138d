namespace EfficientNet.Batch.Contracts.Api;

/// <summary>What <c>GET /jobs/{id}</c> answers and <c>effnet status</c> shows.</summary>
/// <param name="ShardsDone">Shards with a recorded outcome (classified or failed after retries).</param>
/// <param name="ImagesNotClassified">Images of a cancelled job that no committed shard covers.</param>
public sealed record JobView(
    Guid JobId,
    JobStatus Status,
    string Model,
    string Dataset,
    string Output,
    JobPriority Priority,
    long Images,
    int Shards,
    int ShardsDone,
    long ImagesOk,
    long ImagesFailed,
    long ImagesNotClassified,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? DispatchedAt,
    DateTimeOffset? CancelRequestedAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    JobProgress Progress,
    string? SubmittedBy = null,
    string? ScheduleId = null,
    DateTimeOffset? DueAt = null,
    long ImagesReused = 0);

/// <summary>Live progress of a job.</summary>
/// <param name="ShardsQueued">Planned shards no worker has started yet.</param>
/// <param name="ShardsRunning">Shards a worker has started and not finished.</param>
/// <param name="ShardsDone">Shards classified and committed.</param>
/// <param name="ShardsFailed">Shards that failed after every retry (their images are error records).</param>
/// <param name="ShardsSkipped">Shards not classified because the job was cancelled.</param>
/// <param name="ImagesDone">Images of committed shards (classified or error records).</param>
/// <param name="ImagesPerSecond">Images done per second since dispatch (over the whole run once finished).</param>
/// <param name="EtaSeconds">Estimated seconds to go at that rate; null before the first shard finishes or once finished.</param>
public sealed record JobProgress(
    int ShardsQueued,
    int ShardsRunning,
    int ShardsDone,
    int ShardsFailed,
    int ShardsSkipped,
    long ImagesDone,
    double ImagesPerSecond,
    double? EtaSeconds);

/// <summary>One row of <c>GET /jobs</c>.</summary>
public sealed record JobListItem(
    Guid JobId,
    JobStatus Status,
    string Model,
    string Dataset,
    string Output,
    JobPriority Priority,
    long Images,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? CompletedAt,
    string? SubmittedBy = null,
    string? ScheduleId = null,
    DateTimeOffset? DueAt = null);

/// <summary>A page of <c>GET /jobs</c>, newest first. Pass <paramref name="NextCursor"/> as <c>cursor</c> for the next
/// page; null on the last page.</summary>
public sealed record JobListPage(IReadOnlyList<JobListItem> Items, string? NextCursor);

/// <summary>Answer of <c>POST /jobs/{id}/cancel</c>.</summary>
public sealed record CancelAccepted(Guid JobId, JobStatus Status);
