using System.Diagnostics;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>Classifies one shard: reads its images from the dataset location, classifies them, and commits the
/// records under the shard's deterministic result name (a redelivery overwrites it).</summary>
public sealed class ShardClassifier(
    IStorageResolver storage,
    ImageBatchClassifier classifier,
    IOptions<WorkerOptions> options,
    ClassificationProgress progress,
    SharedModelStore sharedModels,
    WorkerTimeShares shares) : IShardClassifier
{
    public async Task<ShardClassified> ClassifyAsync(ClassifyShard shard, CancellationToken cancellationToken)
    {
        // A child of MassTransit's consume span, which continues the coordinator's trace from the message headers:
        // the shard is part of its job's one trace (JobTracing).
        using var activity = BatchMetrics.ActivitySource.StartActivity(JobTracing.Spans.ShardClassify);
        activity?.SetTag(JobTracing.Tags.JobId, shard.JobId.ToString());
        activity?.SetTag(JobTracing.Tags.ShardIndex, shard.ShardIndex);
        activity?.SetTag(JobTracing.Tags.ShardImages, shard.Images.Count);
        activity?.SetTag(JobTracing.Tags.ModelId, shard.Model.ModelId);
        var started = Stopwatch.GetTimestamp();
        using var share = shares.Begin();

        await sharedModels.EnsureLocalAsync(shard.Model, cancellationToken);
        var dataset = storage.Resolve(shard.DatasetLocation);
        var inputs = shard.Images
            .Select(image => new ImageInput(image.Path, image.Label, ct => dataset.Store.OpenReadAsync(dataset.KeyFor(image.Path), ct))
            {
                Fingerprinted = true,
                Listed = image.Fingerprint,
            })
            .ToList();
        var run = await classifier.ClassifyAsync(shard.Model, inputs, shard.TopK, progress.Add, cancellationToken, shard.Thumbnails);

        var output = storage.Resolve(shard.OutputLocation);
        await output.Store.CommitAsync(
            output.KeyFor(shard.ResultKey),
            (stream, ct) => PredictionWriter.WriteAsync(stream, run.Records, ct),
            cancellationToken);

        BatchMetrics.ShardDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        share.Dispose();
        return new ShardClassified(
            shard.JobId,
            shard.ShardIndex,
            StorageKeys.JoinLocation(shard.OutputLocation, shard.ResultKey),
            run.Ok,
            run.Failed,
            options.Value.EffectiveName,
            Math.Round(share.Seconds, 3),
            run.Model.WeightsDescription,
            run.ExecutionProvider,
            new Preprocessing(run.Model.Variant.Resolution, run.Model.Variant.NormalizationName, run.Model.Variant.Mean, run.Model.Variant.Std),
            run.Precision.ToString(),
            run.Model.OnnxSha256,
            run.Model.Untrained);
    }
}

/// <summary>Images finished in this process, for progress displays (the embedded run's progress bar), and when the
/// first of them was.</summary>
public sealed class ClassificationProgress
{
    private long _images;
    private long _firstTicks;

    public long Images => Interlocked.Read(ref _images);

    /// <summary>When the first images of this process were classified (UTC), or null before.</summary>
    public DateTime? FirstImagesAt => Interlocked.Read(ref _firstTicks) is > 0 and var ticks ? new DateTime(ticks, DateTimeKind.Utc) : null;

    public void Add(int images)
    {
        Interlocked.CompareExchange(ref _firstTicks, DateTime.UtcNow.Ticks, 0);
        Interlocked.Add(ref _images, images);
    }
}
