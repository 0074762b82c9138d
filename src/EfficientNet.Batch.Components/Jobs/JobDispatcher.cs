using System.Collections.Concurrent;
using System.Diagnostics;
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
/// Lists a stored job's dataset, plans its shards and sends one message per shard at the job's priority. The listing
/// streams into a plan stored a page at a time (<see cref="ShardPlanWriter"/>), so no step holds the whole dataset, and
/// the messages go out a page at a time from it. The plan is recorded before the first message goes out, so no shard
/// event can arrive for an unplanned job, and each page sent is recorded, so a coordinator that restarts mid-dispatch
/// resumes from the stored plan without listing the dataset again. Safe to repeat (after a crash, or a duplicate
/// request): shard results have deterministic names, so a page sent again overwrites rather than duplicates.
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

        if (record.PlanPages is null)
        {
            if (await PlanAsync(record, activity, cancellationToken) is not { } planned)
            {
                return;
            }

            record = planned;
        }
        else
        {
            // A coordinator stopped mid-dispatch: the rest is sent from the stored plan, the dataset is not listed again.
            LogResumed(jobId, record.DispatchedPages, record.PlanPages.Value);
        }

        activity?.SetTag(JobTracing.Tags.Shards, record.ShardCount);
        activity?.SetTag(JobTracing.Tags.Images, record.ImageCount);
        if (!await SendAsync(record, cancellationToken))
        {
            // Cancelled while its shards were being sent: the rest are not sent.
            await finalizer.TryFinalizeAsync(jobId, cancellationToken);
            return;
        }

        await state.UpdateAsync(jobId, r => r.DispatchedAt is null ? r with { DispatchedAt = clock.GetUtcNow() } : r, cancellationToken);
        LogDispatched(jobId, record.ImageCount, record.ShardCount, record.SkippedFiles, record.Spec.Priority);
        if (record.ShardCount == 0)
        {
            // Every record was reused: no shard event will come to end the job.
            await finalizer.TryFinalizeAsync(jobId, cancellationToken);
        }
    }

    /// <summary>Lists the dataset and stores its shard plan page by page (<see cref="ShardPlanWriter"/>), then records the
    /// plan in the job. A full job's listing streams straight into the plan; an incremental one's streams past its
    /// baseline (<see cref="IncrementalPlanner"/>), and only the images to classify go into the plan. Null when the job failed or was cancelled meanwhile (then nothing is sent).</summary>
    private async Task<JobRecord?> PlanAsync(JobRecord record, Activity? activity, CancellationToken cancellationToken)
    {
        var jobId = record.JobId;
        var plan = new ShardPlanWriter(state, jobId, record.Spec.ShardSize);
        DatasetSummary listed;
        IncrementalPlanInfo? reuse = null;
        try
        {
            var classNames = await ClassNamesAsync(record.Spec.Model, cancellationToken);
            if (record.Spec.Incremental)
            {
                var decided = await incremental.PlanAsync(
                    record,
                    (onPage, ct) => datasets.StreamAsync(record.Spec.Dataset, onPage, ct, classNames, withFingerprints: true),
                    plan,
                    await datasets.IsListedInPathOrderAsync(record.Spec.Dataset, cancellationToken),
                    cancellationToken);
                reuse = decided.Info;
                listed = decided.Listed;
                LogIncremental(
                    jobId, reuse.Reused, plan.Images, reuse.New, reuse.Changed, reuse.Removed, decided.Comparison switch
                    {
                        BaselineComparison.Joined => "joined as listed",
                        BaselineComparison.InMemory => "in memory",
                        _ => "partitioned on local disk",
                    }, reuse.FullReason ?? "-");
            }
            else
            {
                listed = await datasets.StreamAsync(record.Spec.Dataset, plan.AddAsync, cancellationToken, classNames);
            }

            await plan.CompleteAsync(cancellationToken);
        }
        catch (DatasetException e)
        {
            LogDatasetFailed(jobId, e.Message);
            JobTracing.Fail(activity, e.Message);
            await FailAsync(jobId, e.Message, cancellationToken);
            return null;
        }

        if (record.PlannedAt is not null && listed.Images != record.ImageCount)
        {
            // Planned by a coordinator that stored no plan pages, and listed again now: the listing must be the same.
            var changed = $"The dataset changed while the job was being dispatched: {record.ImageCount} images were planned, {listed.Images} are listed now. Submit the job again.";
            JobTracing.Fail(activity, changed);
            await FailAsync(jobId, changed, cancellationToken);
            return null;
        }

        var now = clock.GetUtcNow();
        await incremental.WritePlannedRunAsync(
            record, reuse is null ? await identities.ResolveAsync(record.Spec, cancellationToken) : reuse.Identity, record.PlannedAt ?? now, cancellationToken);
        record = await state.UpdateAsync(
            jobId,
            r => r.IsTerminal || r.Status == JobStatus.Cancelling
                ? r
                : r with
                {
                    Status = JobStatus.Running,
                    ShardCount = plan.Shards,
                    ImageCount = listed.Images,
                    SkippedFiles = listed.SkippedFiles,
                    PlannedAt = r.PlannedAt ?? now,
                    Incremental = reuse,
                    DatasetRoot = listed.Root,
                    PlanPages = plan.Pages,
                    DispatchedPages = 0,
                },
            cancellationToken);
        if (record.Status != JobStatus.Running)
        {
            // Cancelled while the dataset was listed: nothing was sent.
            await finalizer.TryFinalizeAsync(jobId, cancellationToken);
            return null;
        }

        return record;
    }

    /// <summary>Sends the shard messages of the stored plan a page at a time, from the first page not yet sent, and
    /// records each page sent. False when the job was cancelled meanwhile.</summary>
    private async Task<bool> SendAsync(JobRecord record, CancellationToken cancellationToken)
    {
        var jobId = record.JobId;
        var model = new ModelRef(ModelCatalogue.CanonicalId(record.Spec.Model), record.Spec.RandomWeights, record.Spec.Seed);
        var thumbnails = OutputFormats.Of(record.Spec).Contains(OutputFormats.Report);
        var root = record.DatasetRoot ?? throw new InvalidOperationException($"Job {jobId} was planned without its dataset root.");
        for (var page = record.DispatchedPages; page < record.PlanPages; page++)
        {
            var stored = await state.ReadPlanPageAsync(jobId, page, cancellationToken);
            var messages = new List<ClassifyShard>(stored.Shards.Count);
            for (var offset = 0; offset < stored.Shards.Count; offset++)
            {
                var index = stored.FirstShard + offset;
                messages.Add(new ClassifyShard(
                    jobId, index, record.ShardCount, model, root, stored.Shards[offset], record.Output, JobOutputLayout.ResultKey(jobId, index),
                    record.Spec.TopK, JobOutputLayout.CancelMarkerKey(jobId), Thumbnails: thumbnails));
            }

            await shards.DispatchAsync(messages, record.Spec.Priority, cancellationToken);
            BatchMetrics.ShardsDispatched.Add(messages.Count);
            var sent = page + 1;
            var current = await state.UpdateAsync(jobId, r => r.DispatchedPages >= sent ? r : r with { DispatchedPages = sent }, cancellationToken);
            if (current.IsTerminal || current.Status == JobStatus.Cancelling)
            {
                return false;
            }
        }

        return true;
    }

    private async Task FailAsync(Guid jobId, string error, CancellationToken cancellationToken)
    {
        await state.UpdateAsync(
            jobId,
            r => r.IsTerminal ? r : r with { Status = JobStatus.Failed, Error = error, CompletedAt = clock.GetUtcNow(), Totals = new JobTotals(0, 0, 0, 0, 0, r.ImageCount) },
            cancellationToken);
        await state.DeletePlanAsync(jobId, cancellationToken);
    }

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
    private partial void LogDispatched(Guid jobId, long images, int shards, long skipped, JobPriority priority);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: dispatch resumed from its stored plan at page {Page} of {Pages}")]
    private partial void LogResumed(Guid jobId, int page, int pages);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Job {JobId} is incremental: {Reused} records reused, {Classify} images to classify ({New} new, {Changed} changed), {Removed} removed; baseline compared {Comparison}; full re-score because: {Reason}")]
    private partial void LogIncremental(Guid jobId, long reused, long classify, long @new, long changed, long removed, string comparison, string reason);

    // The dataset is the submitter's to fix: the reason is the whole story, no stack trace.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed: {Reason}")]
    private partial void LogDatasetFailed(Guid jobId, string reason);
}
