using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Logging;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Removes the working files from a job's output location once the job has completed, so that the location holds its
/// outputs only: its own <c>shards/{jobId}/</c> (shard results, the incremental plan, the planned identity), and the
/// folders of earlier runs into the same location that were interrupted or cancelled, whose committed shards this job
/// has reused or replaced.
/// </summary>
/// <remarks>
/// <para>Every <c>shards/</c> folder under the output is stale by then: a job owns its output, so no other job can be
/// running into it (<see cref="OutputOwnership"/>), and this job's outputs have replaced whatever earlier runs there
/// wrote.</para>
/// <para>Runs after the terminal status is stored, never before: until then a restarted coordinator may need the
/// shard results to merge again. Only <see cref="JobStatus.Completed"/> and <see cref="JobStatus.CompletedWithErrors"/>
/// are cleaned: a cancelled job keeps its committed shards, which the next run over the same output resumes from, and
/// a failed merge keeps them for diagnosis. A cleanup that fails leaves the files and logs a warning; the job's outputs
/// are already complete.</para>
/// </remarks>
public sealed partial class ShardResultCleanup(IStorageResolver storage, ILogger<ShardResultCleanup> logger)
{
    public static bool Applies(JobStatus status) => status is JobStatus.Completed or JobStatus.CompletedWithErrors;

    public async Task RemoveAsync(JobRecord record, JobStatus status, CancellationToken cancellationToken)
    {
        if (!Applies(status))
        {
            return;
        }

        try
        {
            var output = storage.Resolve(record.Output);
            var removed = await output.Store.DeleteAllAsync(output.KeyFor(JobOutputLayout.ShardsRoot) + "/", cancellationToken);
            LogRemoved(record.JobId, removed);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCleanupFailed(record.JobId, JobOutputLayout.ShardsRoot, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: {Objects} working files removed from its output")]
    private partial void LogRemoved(Guid jobId, int objects);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} completed, but its working files under {Folder} of its output could not be removed: {Reason}")]
    private partial void LogCleanupFailed(Guid jobId, string folder, string reason);
}
