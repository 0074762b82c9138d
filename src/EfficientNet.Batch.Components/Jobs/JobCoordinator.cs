using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// The coordinator's logic: accepts jobs, lists and shards datasets, tracks shard outcomes and merges the results
/// once every shard is done. All state it needs to resume after a restart is in <see cref="JobStateStore"/>.
/// </summary>
public sealed partial class JobCoordinator(
    JobStateStore state,
    JobProgressTracker progress,
    JobSpecValidator validator,
    DatasetLister datasets,
    IShardDispatcher dispatcher,
    IJobEventPublisher events,
    ResultMerger merger,
    IOptions<CoordinatorOptions> options,
    TimeProvider clock,
    ILogger<JobCoordinator> logger)
{
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Validates and records a new job. The caller then asks for <see cref="DispatchAsync"/> (via the bus).</summary>
    public async Task<JobRecord> SubmitAsync(Guid jobId, JobSpec spec, CancellationToken cancellationToken)
    {
        var errors = validator.Validate(spec);
        if (errors.Count > 0)
        {
            throw new JobValidationException(errors);
        }

        var record = new JobRecord
        {
            JobId = jobId,
            Spec = spec,
            Status = JobStatus.Submitted,
            Output = spec.Output ?? StorageKeys.JoinLocation(options.Value.OutputLocation, jobId.ToString("N")),
            SubmittedAt = clock.GetUtcNow(),
        };
        await state.CreateAsync(record, cancellationToken);
        LogSubmitted(jobId, spec.Model, spec.Dataset);
        return record;
    }

    /// <summary>Lists the dataset, plans the shards and sends one message per shard. Safe to repeat: shard results
    /// have deterministic names, so a repeated dispatch overwrites rather than duplicates.</summary>
    public async Task DispatchAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken)
            ?? throw new InvalidOperationException($"Job {jobId} does not exist in {state.Describe()}.");
        if (record.IsTerminal || record.DispatchedAt is not null)
        {
            return;
        }

        DatasetListing listing;
        try
        {
            listing = await datasets.ListAsync(record.Spec.Dataset, cancellationToken);
        }
        catch (DatasetException e)
        {
            LogDatasetFailed(e, jobId, record.Spec.Dataset);
            await state.UpdateAsync(jobId, r => r with { Status = JobStatus.Failed, Error = e.Message, CompletedAt = clock.GetUtcNow() }, cancellationToken);
            return;
        }

        var shards = ShardPlanner.Plan(listing.Images, record.Spec.ShardSize);
        record = await state.UpdateAsync(
            jobId,
            r => r with { Status = JobStatus.Running, ShardCount = shards.Count, ImageCount = listing.Images.Count, SkippedFiles = listing.SkippedFiles },
            cancellationToken);

        var model = new ModelRef(ModelCatalogue.Get(record.Spec.Model).Id, record.Spec.RandomWeights, record.Spec.Seed);
        var messages = shards
            .Select((images, index) => new ClassifyShard(
                jobId, index, shards.Count, model, listing.Root, images, record.Output, ShardPlanner.ResultKey(index), record.Spec.TopK))
            .ToList();
        await dispatcher.DispatchAsync(messages, cancellationToken);
        await state.UpdateAsync(jobId, r => r.DispatchedAt is null ? r with { DispatchedAt = clock.GetUtcNow() } : r, cancellationToken);
        BatchMetrics.ShardsDispatched.Add(messages.Count);
        LogDispatched(jobId, listing.Images.Count, shards.Count, listing.SkippedFiles);

        if (shards.Count == 0)
        {
            await TryFinalizeAsync(jobId, cancellationToken);
        }
    }

    public async Task OnShardClassifiedAsync(ShardClassified message, CancellationToken cancellationToken)
    {
        var outcome = new ShardOutcome(
            message.ShardIndex, true, message.ImagesOk, message.ImagesFailed, message.ResultLocation, message.Worker, message.Seconds, null,
            message.Weights, message.ExecutionProvider, message.Preprocessing, message.Precision);
        await RecordOutcomeAsync(message.JobId, outcome, cancellationToken);
    }

    /// <summary>A shard failed after every retry: its images become error records, so nothing is silently lost.</summary>
    public async Task OnShardFaultedAsync(ClassifyShard shard, string reason, CancellationToken cancellationToken)
    {
        var output = merger.ResolveOutput(shard.OutputLocation);
        await output.Store.CommitAsync(
            output.KeyFor(shard.ResultKey),
            (stream, ct) => PredictionWriter.WriteAsync(
                stream,
                shard.Images.Select(i => PredictionRecord.Failure(i.Path, i.Label, "shard-failed", $"The shard failed after retries: {reason}")),
                ct),
            cancellationToken);
        LogShardFailed(shard.JobId, shard.ShardIndex, reason);
        var outcome = new ShardOutcome(
            shard.ShardIndex, false, 0, shard.Images.Count, StorageKeys.JoinLocation(shard.OutputLocation, shard.ResultKey), null, 0, reason);
        await RecordOutcomeAsync(shard.JobId, outcome, cancellationToken);
    }

    public async Task<JobStatusView?> GetStatusAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null)
        {
            return null;
        }

        var snapshot = await progress.GetSnapshotAsync(jobId, () => state.ListShardOutcomesAsync(jobId, cancellationToken));
        return JobStatusView.From(record, snapshot);
    }

    public IAsyncEnumerable<JobRecord> ListAsync(CancellationToken cancellationToken) => state.ListAsync(cancellationToken);

    /// <summary>Resumes every unfinished job found in the state store (after a restart).</summary>
    public async Task<int> RecoverAsync(Func<Guid, CancellationToken, Task> redispatch, CancellationToken cancellationToken)
    {
        var resumed = 0;
        await foreach (var record in state.ListAsync(cancellationToken))
        {
            if (record.IsTerminal)
            {
                continue;
            }

            resumed++;
            if (record.DispatchedAt is null)
            {
                LogResuming(record.JobId, "dispatch");
                await redispatch(record.JobId, cancellationToken);
            }
            else
            {
                LogResuming(record.JobId, "collect");
                await TryFinalizeAsync(record.JobId, cancellationToken);
            }
        }

        return resumed;
    }

    private async Task RecordOutcomeAsync(Guid jobId, ShardOutcome outcome, CancellationToken cancellationToken)
    {
        await state.WriteShardOutcomeAsync(jobId, outcome, cancellationToken);
        var snapshot = await progress.RecordAsync(jobId, outcome, () => state.ListShardOutcomesAsync(jobId, cancellationToken));
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is { IsTerminal: false, DispatchedAt: not null } && snapshot.ShardsDone >= record.ShardCount)
        {
            await TryFinalizeAsync(jobId, cancellationToken);
        }
    }

    /// <summary>Merges the job if every shard has a durable outcome and no other coordinator is merging it.</summary>
    public async Task<bool> TryFinalizeAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null || record.IsTerminal || record.DispatchedAt is null)
        {
            return false;
        }

        var outcomes = (await state.ListShardOutcomesAsync(jobId, cancellationToken))
            .GroupBy(o => o.ShardIndex)
            .Select(g => g.Last())
            .OrderBy(o => o.ShardIndex)
            .ToList();
        if (outcomes.Count < record.ShardCount)
        {
            return false;
        }

        var now = clock.GetUtcNow();
        if (!await state.TryAcquireFinalizeLeaseAsync(jobId, _owner, now, options.Value.FinalizeLeaseTimeout, cancellationToken))
        {
            return false;
        }

        var statistics = await merger.MergeAsync(record, cancellationToken);
        var completedAt = clock.GetUtcNow();
        var status = outcomes.All(o => o.Succeeded) ? JobStatus.Completed : JobStatus.CompletedWithErrors;
        var summary = JobSummaryBuilder.Build(record, outcomes, statistics, status, ResultMerger.PredictionsLocation(record), completedAt);
        await merger.WriteSummaryAsync(record, summary, cancellationToken);
        await state.UpdateAsync(jobId, r => r with { Status = status, CompletedAt = completedAt }, cancellationToken);
        await state.ReleaseFinalizeLeaseAsync(jobId, cancellationToken);
        progress.Forget(jobId);

        await events.PublishAsync(
            new JobCompleted(jobId, status.ToString(), summary.Predictions, ResultMerger.SummaryLocation(record), statistics.Ok, statistics.Failed, summary.WallSeconds),
            cancellationToken);
        BatchMetrics.JobsCompleted.Add(1, new KeyValuePair<string, object?>("effnet.job.status", status.ToString()));
        LogCompleted(jobId, status, statistics.Ok, statistics.Failed, summary.WallSeconds);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} submitted: model {Model}, dataset {Dataset}")]
    private partial void LogSubmitted(Guid jobId, string model, string dataset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} dispatched: {Images} images in {Shards} shards ({Skipped} non-image files skipped)")]
    private partial void LogDispatched(Guid jobId, int images, int shards, long skipped);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed: dataset {Dataset} cannot be listed")]
    private partial void LogDatasetFailed(Exception exception, Guid jobId, string dataset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} shard {Shard} failed after retries: {Reason}")]
    private partial void LogShardFailed(Guid jobId, int shard, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming job {JobId} ({Stage})")]
    private partial void LogResuming(Guid jobId, string stage);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} {Status}: {Ok} images classified, {Failed} errors, {Seconds:F1} s")]
    private partial void LogCompleted(Guid jobId, JobStatus status, long ok, long failed, double seconds);
}

/// <summary>What <c>GET /jobs/{id}</c> and <c>effnet status</c> show.</summary>
public sealed record JobStatusView(
    Guid JobId,
    JobStatus Status,
    string Model,
    string Dataset,
    string Output,
    long Images,
    int Shards,
    int ShardsDone,
    long ImagesOk,
    long ImagesFailed,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? CompletedAt,
    string? Error)
{
    public static JobStatusView From(JobRecord record, JobProgressSnapshot progress) => new(
        record.JobId,
        record.Status,
        record.Spec.Model,
        record.Spec.Dataset,
        record.Output,
        record.ImageCount,
        record.ShardCount,
        progress.ShardsDone,
        progress.ImagesOk,
        progress.ImagesFailed,
        record.SubmittedAt,
        record.CompletedAt,
        record.Error);
}
