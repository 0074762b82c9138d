using System.Diagnostics;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Telemetry;

/// <summary>
/// One trace per job. Submission starts the job's root span and its W3C context is stored on the
/// <see cref="JobRecord"/>; every later phase of the job (dispatch, merge, a sweep's recovery) starts as a child of that
/// stored context, whichever process or restart runs it, and links to the span that triggered it (the message consumed,
/// the HTTP request). Shard spans join through the message headers MassTransit propagates: the worker's spans are
/// children of the coordinator's send spans, themselves children of the dispatch span.
/// </summary>
public static class JobTracing
{
    /// <summary>Span names, all in the <see cref="TelemetryNames.ActivitySource"/> source.</summary>
    public static class Spans
    {
        /// <summary>The job's root: validation, storing the record, asking for dispatch.</summary>
        public const string Submit = "effnet.job.submit";

        /// <summary>Listing the dataset, planning the shards and sending one message per shard.</summary>
        public const string Dispatch = "effnet.job.dispatch";

        /// <summary>Merging the shard results into the job's outputs and recording its final status.</summary>
        public const string Merge = "effnet.job.merge";

        /// <summary>The sweep asking again for the dispatch of a job that was stored but never dispatched.</summary>
        public const string Recover = "effnet.job.recover";

        /// <summary>A worker classifying one shard.</summary>
        public const string ShardClassify = "effnet.shard.classify";

        /// <summary>One ONNX Runtime batch inside a shard.</summary>
        public const string Inference = "effnet.inference";
    }

    /// <summary>Span event names.</summary>
    public static class Events
    {
        /// <summary>The broker did not take a job's dispatch request in time; the sweep asks again.</summary>
        public const string DispatchDeferred = "effnet.job.dispatch_deferred";
    }

    /// <summary>Span attribute names; <see cref="JobId"/> is on every job and shard span, so a trace is found by job id.</summary>
    public static class Tags
    {
        public const string JobId = "effnet.job.id";
        public const string ModelId = "effnet.model.id";
        public const string Dataset = "effnet.job.dataset";
        public const string Priority = "effnet.job.priority";
        public const string ScheduleId = "effnet.schedule.id";
        public const string Shards = "effnet.job.shards";
        public const string Images = "effnet.job.images";
        public const string Status = "effnet.job.status";
        public const string ImagesOk = "effnet.job.images_ok";
        public const string ImagesFailed = "effnet.job.images_failed";
        public const string RecoveryAction = "effnet.recovery.action";
        public const string ShardIndex = "effnet.shard.index";
        public const string ShardImages = "effnet.shard.images";
        public const string BatchSize = "effnet.batch.size";
    }

    /// <summary>Starts a job's root span: a new trace even when called inside another (an HTTP request, a schedule
    /// tick), which is linked instead, so that one job is always exactly one trace however it was submitted.</summary>
    public static Activity? StartSubmit(Guid jobId, JobSpec spec, string? scheduleId)
    {
        var trigger = Activity.Current;
        Activity.Current = null;
        var activity = BatchMetrics.ActivitySource.StartActivity(
            Spans.Submit, ActivityKind.Internal, parentContext: default, JobTags(jobId, spec), LinkTo(trigger, default));
        if (activity is null)
        {
            // Nobody listens: leave the caller's context as it was.
            Activity.Current = trigger;
            return null;
        }

        if (scheduleId is not null)
        {
            activity.SetTag(Tags.ScheduleId, scheduleId);
        }

        return activity;
    }

    /// <summary>Starts a phase of a stored job as a child of the job's root span, linked to the span that is current
    /// (what triggered it). A record without a stored context (stored before traces were recorded, or submitted
    /// while nothing listened) gets an ordinary span under whatever is current.</summary>
    public static Activity? StartPhase(string name, JobRecord record)
    {
        var trigger = Activity.Current;
        var tags = JobTags(record.JobId, record.Spec);
        if (!TryGetContext(record, out var job))
        {
            return BatchMetrics.ActivitySource.StartActivity(name, ActivityKind.Internal, parentContext: default, tags);
        }

        return BatchMetrics.ActivitySource.StartActivity(name, ActivityKind.Internal, job, tags, LinkTo(trigger, job));
    }

    /// <summary>The record's job context: the root span's traceparent and tracestate as stored at submission.</summary>
    public static bool TryGetContext(JobRecord record, out ActivityContext context)
    {
        context = default;
        return record.TraceParent is { } traceParent
            && ActivityContext.TryParse(traceParent, record.TraceState, isRemote: true, out context);
    }

    /// <summary>Marks a span failed with a reason a person can act on (bounded: it may quote user input).</summary>
    public static void Fail(Activity? activity, string reason) => activity?.SetStatus(ActivityStatusCode.Error, Quote.Message(reason));

    private static KeyValuePair<string, object?>[] JobTags(Guid jobId, JobSpec spec) =>
    [
        new(Tags.JobId, jobId.ToString()),
        new(Tags.ModelId, spec.Model),
        new(Tags.Dataset, Quote.Bounded(spec.Dataset)),
        new(Tags.Priority, spec.Priority.ToString()),
    ];

    private static ActivityLink[]? LinkTo(Activity? trigger, ActivityContext parent) =>
        trigger is null || trigger.Context == parent ? null : [new ActivityLink(trigger.Context)];
}
