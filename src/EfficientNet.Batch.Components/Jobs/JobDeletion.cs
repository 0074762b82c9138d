using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Logging;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Removes a finished job's state, and on request its outputs: everything under its output location, or
/// only its own shard results when a later job took that location over.</summary>
public sealed partial class JobDeletion(JobStateStore state, IStorageResolver storage, ILogger<JobDeletion> logger)
{
    /// <summary>Returns false when the job does not exist. Throws <see cref="JobNotFinishedException"/> for a job that
    /// is still running.</summary>
    public async Task<bool> DeleteAsync(Guid jobId, bool outputs, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null)
        {
            return false;
        }

        if (!record.IsTerminal)
        {
            throw new JobNotFinishedException(record);
        }

        var removed = 0;
        if (outputs)
        {
            var output = storage.Resolve(record.Output);
            var folder = record.OutputTakenOverBy is null ? output.Prefix : output.KeyFor(JobOutputLayout.ShardsFolder(jobId));
            removed = await output.Store.DeleteAllAsync(folder.Length == 0 ? "" : folder + "/", cancellationToken);
        }

        await state.DeleteAsync(jobId, cancellationToken);
        LogDeleted(jobId, removed);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} deleted ({Objects} output objects removed)")]
    private partial void LogDeleted(Guid jobId, int objects);
}

/// <summary>The job is not finished: cancel it first.</summary>
public sealed class JobNotFinishedException(JobRecord record)
    : Exception($"Job {record.JobId} is {record.Status}: only a finished job can be deleted (cancel it first).")
{
    public JobRecord Record { get; } = record;
}
