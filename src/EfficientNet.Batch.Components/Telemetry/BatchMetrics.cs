using EfficientNet.Batch.Contracts;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EfficientNet.Batch.Components.Telemetry;

/// <summary>The project's own traces and metrics. Names follow the OpenTelemetry conventions (dotted, unit suffix-free).</summary>
public static class BatchMetrics
{
    public const string Name = TelemetryNames.Meter;

    public static readonly ActivitySource ActivitySource = new(TelemetryNames.ActivitySource);

    private static readonly Meter Meter = new(Name);

    /// <summary>Images finished, tagged <c>effnet.outcome</c> = ok | error; its rate is the images/s users watch.</summary>
    public static readonly Counter<long> ImagesProcessed =
        Meter.CreateCounter<long>("effnet.images.processed", "{image}", "Images classified or reported as errors.");

    public static readonly Counter<long> ImageErrors =
        Meter.CreateCounter<long>("effnet.images.errors", "{image}", "Images that could not be classified, by error.type.");

    public static readonly Histogram<double> DecodeDuration =
        Meter.CreateHistogram<double>("effnet.decode.duration", "ms", "Read + decode + preprocess time of one image.");

    public static readonly Histogram<double> InferenceDuration =
        Meter.CreateHistogram<double>("effnet.inference.duration", "ms", "ONNX Runtime time of one batch.");

    public static readonly Histogram<int> BatchSize =
        Meter.CreateHistogram<int>("effnet.batch.size", "{image}", "Images in one inference batch.");

    public static readonly Histogram<double> ShardQueueWait =
        Meter.CreateHistogram<double>("effnet.shard.queue_wait", "s", "Time from a shard being sent to a worker starting it.");

    public static readonly Histogram<double> ShardDuration =
        Meter.CreateHistogram<double>("effnet.shard.duration", "s", "Time a worker spent on one shard.");

    public static readonly Counter<long> ShardsDispatched =
        Meter.CreateCounter<long>("effnet.shards.dispatched", "{shard}", "Shard messages sent by the coordinator.");

    public static readonly Counter<long> JobsCompleted =
        Meter.CreateCounter<long>("effnet.jobs.completed", "{job}", "Jobs merged, by effnet.job.status.");
}
