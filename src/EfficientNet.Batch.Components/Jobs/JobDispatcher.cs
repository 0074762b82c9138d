using System.Collections.Concurrent;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Models.Catalogue;
using Microsoft.Extensions.Logging;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Lists a stored job's dataset, plans its shards and sends one message per shard at the job's priority. The plan is
/// recorded before the first message goes out, so no shard event can arrive for an unplanned job. Safe to repeat
/// (after a crash, or a duplicate request): shard results have deterministic names, so a repeated dispatch
/// overwrites rather than duplicates.
/// </summary>
public sealed partial class JobDispatcher(
    JobStateStore state,
    DatasetLister datasets,
    IShardDispatcher shards,
    IncrementalPlanner incremental,
    ModelIdentityResolver identities,
    ServedModels models,
    JobFinalizer finalizer,
    TimeProvider clock,
    ILogger<JobDispatcher> logger)
{
    private readonly ConcurrentDictionary<Guid, byte> _inFlight = new();

    /// <summary>This process is dispatching the job right now.</summary>
    public bool IsDispatching(Guid jobId) => _inFlight.ContainsKey(jobId);

    public async Task DispatchAsync(Guid jobId, CancellationToken cancellationToken)
    {
        if (!_inFlight.TryAdd(jobId, 0))
        {
            return;
        }

        try
        {
            await DispatchOnceAsync(jobId, cancellationToken);
        }
        finally
        {
            _inFlight.TryRemove(jobId, out _);
        }
    }

    private async Task DispatchOnceAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var record = await state.GetAsync(jobId, cancellationToken);
        if (record is null || record.IsTerminal || record.DispatchedAt is not null)
        {
            return;
        }

        using var activity = JobTracing.StartPhase(JobTracing.Spans.Dispatch, record);
        if (record.Status == JobStatus.Cancelling)
        {
            await finalizer.TryFinalizeAsync(jobId, cancellationToken);
            return;
        }

        DatasetListing listing;
        try
        {
            listing = await datasets.ListAsync(record.Spec.Dataset, cancellationToken, await ClassNamesAsync(record.Spec.Model, cancellationToken));
        }
        catch (DatasetException e)
        {
            LogDatasetFailed(jobId, e.Message);
            JobTracing.Fail(activity, e.Message);
            await FailAsync(jobId, e.Message, cancellationToken);
            return;
        }

        if (record.PlannedAt is not null && listing.Images.Count != record.ImageCount)
        {
            var changed = $"The dataset changed while the job was being dispatched: {record.ImageCount} images were planned, {listing.Images.Count} are listed now. Submit the job again.";
            JobTracing.Fail(activity, changed);
            await FailAsync(jobId, changed, cancellationToken);
            return;
        }

        var now = clock.GetUtcNow();
        IReadOnlyList<ShardImage> images = listing.Images;
        IncrementalPlanInfo? reuse = null;
        if (record.Spec.Incremental)
        {
            var decided = await incremental.PlanAsync(record, listing, cancellationToken);
            (images, reuse) = (decided.ToClassify, decided.Info);
            LogIncremental(jobId, decided.Info.Reused, images.Count, decided.Info.New, decided.Info.Changed, decided.Info.Removed, decided.Info.FullReason ?? "-");
        }

        await incremental.WritePlannedRunAsync(
            record, reuse is null ? await identities.ResolveAsync(record.Spec, cancellationToken) : reuse.Identity, record.PlannedAt ?? now, cancellationToken);
        var plan = ShardPlanner.Plan(images, record.Spec.ShardSize);
        activity?.SetTag(JobTracing.Tags.Shards, plan.Count);
        activity?.SetTag(JobTracing.Tags.Images, listing.Images.Count);
        record = await state.UpdateAsync(
            jobId,
            r => r.IsTerminal || r.Status == JobStatus.Cancelling
                ? r
                : r with
                {
                    Status = JobStatus.Running,
                    ShardCount = plan.Count,
                    ImageCount = listing.Images.Count,
                    SkippedFiles = listing.SkippedFiles,
                    PlannedAt = r.PlannedAt ?? now,
                    Incremental = reuse,
                    DatasetRoot = listing.Root,
                },
            cancellationToken);
        if (record.Status != JobStatus.Running)
        {
            // Cancelled while the dataset was listed: nothing was sent.
            await finalizer.TryFinalizeAsync(jobId, cancellationToken);
            return;
        }

        var model = new ModelRef(ModelCatalogue.CanonicalId(record.Spec.Model), record.Spec.RandomWeights, record.Spec.Seed);
        var messages = plan
            .Select((images, index) => new ClassifyShard(
                jobId, index, plan.Count, model, listing.Root, images, record.Output, JobOutputLayout.ResultKey(jobId, index), record.Spec.TopK,
                JobOutputLayout.CancelMarkerKey(jobId), Thumbnails: OutputFormats.Of(record.Spec).Contains(OutputFormats.Report)))
            .ToList();
        await shards.DispatchAsync(messages, record.Spec.Priority, cancellationToken);
        await state.UpdateAsync(jobId, r => r.DispatchedAt is null ? r with { DispatchedAt = clock.GetUtcNow() } : r, cancellationToken);
        BatchMetrics.ShardsDispatched.Add(messages.Count);
        LogDispatched(jobId, listing.Images.Count, plan.Count, listing.SkippedFiles, record.Spec.Priority);
        if (plan.Count == 0)
        {
            // Every record was reused: no shard event will come to end the job.
            await finalizer.TryFinalizeAsync(jobId, cancellationToken);
        }
    }

    private Task<JobRecord> FailAsync(Guid jobId, string error, CancellationToken cancellationToken) =>
        state.UpdateAsync(
            jobId,
            r => r.IsTerminal ? r : r with { Status = JobStatus.Failed, Error = error, CompletedAt = clock.GetUtcNow(), Totals = new JobTotals(0, 0, 0, 0, 0, r.ImageCount) },
            cancellationToken);

    /// <summary>The class names a manifest's labels are resolved against: ImageNet's for a zoo model, a custom model's
    /// own from the model store; null when the store cannot describe it (then integer labels pass unchecked).</summary>
    private async Task<IReadOnlyList<string>?> ClassNamesAsync(string modelId, CancellationToken cancellationToken)
    {
        try
        {
            return (await models.FindAsync(modelId, cancellationToken))?.ClassNames;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogClassNamesUnknown(modelId, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The class names of model {Model} could not be read ({Reason}); manifest labels are taken as class indices unchecked")]
    private partial void LogClassNamesUnknown(string model, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} dispatched: {Images} images in {Shards} shards ({Skipped} non-image files skipped), priority {Priority}")]
    private partial void LogDispatched(Guid jobId, int images, int shards, long skipped, JobPriority priority);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Job {JobId} is incremental: {Reused} records reused, {Classify} images to classify ({New} new, {Changed} changed), {Removed} removed; full re-score because: {Reason}")]
    private partial void LogIncremental(Guid jobId, long reused, int classify, long @new, long changed, long removed, string reason);

    // The dataset is the submitter's to fix: the reason is the whole story, no stack trace.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed: {Reason}")]
    private partial void LogDatasetFailed(Guid jobId, string reason);
}
