using System.Text.Json.Serialization;

namespace EfficientNet.Batch.Contracts;

/// <summary>What a user asks for: classify every image of a dataset with one model.</summary>
/// <remarks>Add-only: new members get defaults so that older senders stay valid.</remarks>
public sealed record JobSpec
{
    /// <summary>Storage location of the dataset: a folder/prefix of images, or a manifest file
    /// (one path per line, or CSV <c>path[,label]</c>). See <c>StorageLocation</c> for the forms.</summary>
    public required string Dataset { get; init; }

    /// <summary>Catalogue id of the model, e.g. <c>efficientnet_b3_advprop</c>.</summary>
    public required string Model { get; init; }

    /// <summary>Where predictions.jsonl and summary.json go; the coordinator's default when null.</summary>
    public string? Output { get; init; }

    public int ShardSize { get; init; } = 256;

    public int TopK { get; init; } = 5;

    /// <summary>Use deterministic untrained weights generated from <see cref="Seed"/>.</summary>
    public bool RandomWeights { get; init; }

    public int Seed { get; init; }

    /// <summary>Order among queued shards of all jobs: a high-priority job's shards are taken before queued
    /// low-priority ones (RabbitMQ priority queue).</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;

    /// <summary>Re-score incrementally: reuse the records of a previous run (a schedule's previous completed run, or
    /// the run already in <c>effnet run</c>'s output) for every image whose fingerprint and model identity are
    /// unchanged, and classify only new or changed images. Without a usable previous run the job classifies everything.</summary>
    public bool Incremental { get; init; }

    /// <summary>Files the job writes besides summary.json: any of <c>jsonl</c>, <c>csv</c>, <c>parquet</c>, <c>report</c>
    /// (see <see cref="OutputFormats"/>). predictions.jsonl is always written: it is the job's record (fingerprints
    /// included) that incremental re-scoring and <c>effnet evaluate</c> read.</summary>
    public IReadOnlyList<string>? Outputs { get; init; }

    /// <summary>Write review.jsonl (and its Label Studio export) with the images a person should check.</summary>
    public ReviewSpec? Review { get; init; }
}

/// <summary>The output format names a job may ask for.</summary>
public static class OutputFormats
{
    public const string Jsonl = "jsonl";
    public const string Csv = "csv";
    public const string Parquet = "parquet";
    public const string Report = "report";

    public static readonly IReadOnlyList<string> All = [Jsonl, Csv, Parquet, Report];

    /// <summary>The formats a job writes, in the order of <see cref="All"/>: JSONL and what it asked for.</summary>
    public static IReadOnlyList<string> Of(JobSpec spec) =>
        [.. All.Where(f => f == Jsonl || (spec.Outputs?.Contains(f, StringComparer.OrdinalIgnoreCase) ?? false))];
}

/// <summary>Which images go to the review queue: top-1 probability at most <see cref="MaxProbability"/>, or a margin
/// between the first two classes below <see cref="MinMargin"/> (either may be null; an image matching any set bound is
/// queued, and so is every image that could not be classified).</summary>
public sealed record ReviewSpec(double? MaxProbability = null, double? MinMargin = null);

/// <summary>How urgently a job's shards are taken from the shared queue.</summary>
public enum JobPriority
{
    [JsonStringEnumMemberName("low")]
    Low,

    [JsonStringEnumMemberName("normal")]
    Normal,

    [JsonStringEnumMemberName("high")]
    High,
}

/// <summary>Which model and which weights a worker must load.</summary>
public sealed record ModelRef(string ModelId, bool RandomWeights, int Seed)
{
    public string Describe() => RandomWeights ? $"{ModelId} (untrained, seed {Seed})" : ModelId;
}

/// <summary>Command: plan and run a labeling job.</summary>
public sealed record SubmitJob(Guid JobId, JobSpec Spec);

/// <summary>One image of a shard: its path relative to the dataset location, and an optional ground-truth label.</summary>
/// <param name="Fingerprint">What the listing knew of the image's content (ETag, Content-MD5, size, modification
/// time); the worker copies it into the image's record and adds the SHA-256 of the bytes when there is no Content-MD5.</param>
public sealed record ShardImage(string Path, int? Label = null, ImageFingerprint? Fingerprint = null);

/// <summary>The identity of an image's content, as storage reports it when listing (no byte is read for it), plus
/// the SHA-256 of the bytes when the worker computed one while reading them for decoding.</summary>
/// <param name="ETag">The object's entity tag (for the file system: its modification time and length).</param>
/// <param name="ContentMd5">Base64 Content-MD5 when the store keeps one (Azure Blob for single-shot uploads).</param>
public sealed record ImageFingerprint(
    [property: JsonPropertyName("etag")] string? ETag,
    [property: JsonPropertyName("md5")] string? ContentMd5,
    long Size,
    DateTimeOffset Modified,
    string? Sha256 = null)
{
    /// <summary>True when both describe the same content: equal Content-MD5 when both have one, else equal ETag and
    /// size. Decided from listings alone, so no image is read to decide.</summary>
    public bool SameContentAs(ImageFingerprint other) =>
        ContentMd5 is not null && other.ContentMd5 is not null
            ? ContentMd5 == other.ContentMd5 && Size == other.Size
            : ETag is not null && ETag == other.ETag && Size == other.Size;
}

/// <summary>Command: classify the images of one shard and write the result as <see cref="ResultKey"/> under
/// <see cref="OutputLocation"/>. Image paths are relative to <see cref="DatasetLocation"/>; no pixels travel.</summary>
public sealed record ClassifyShard(
    Guid JobId,
    int ShardIndex,
    int ShardCount,
    ModelRef Model,
    string DatasetLocation,
    IReadOnlyList<ShardImage> Images,
    string OutputLocation,
    string ResultKey,
    int TopK,
    string? CancelMarkerKey = null,
    bool Thumbnails = false);

/// <summary>Event: a shard's results are durably written.</summary>
/// <param name="Seconds">The worker's time the shard accounts for: its wall time, shared evenly with the shards it
/// overlapped on the same worker (<c>Worker:ConcurrentShards</c>), so a worker's shards add up to the time it was busy.</param>
public sealed record ShardClassified(
    Guid JobId,
    int ShardIndex,
    string ResultLocation,
    int ImagesOk,
    int ImagesFailed,
    string Worker,
    double Seconds,
    string? Weights = null,
    string? ExecutionProvider = null,
    Preprocessing? Preprocessing = null,
    string? Precision = null,
    string? WeightsSha256 = null,
    bool Untrained = false);

/// <summary>The normalisation a worker applied (the catalogue's, or an imported model's override).</summary>
public sealed record Preprocessing(int Resolution, string Normalization, IReadOnlyList<float> Mean, IReadOnlyList<float> Std);

/// <summary>Event: a worker started classifying a shard (for live progress: shards running).</summary>
public sealed record ShardStarted(Guid JobId, int ShardIndex, string Worker);

/// <summary>Event: a worker did not classify a shard (or stopped it) because its job was cancelled; nothing was
/// written for it.</summary>
public sealed record ShardSkipped(Guid JobId, int ShardIndex, string Worker, string Reason);

/// <summary>Event: a job was cancelled. Workers skip its queued shards and stop the ones they are classifying.</summary>
public sealed record JobCancelled(Guid JobId);

/// <summary>Event: a shard could not be classified at all (after retries); its images are reported as errors.</summary>
public sealed record ShardFailed(Guid JobId, int ShardIndex, string Reason, string? Worker);

/// <summary>Event: every shard is done and the job's outputs are committed.</summary>
public sealed record JobCompleted(
    Guid JobId,
    string Status,
    string PredictionsLocation,
    string SummaryLocation,
    long ImagesOk,
    long ImagesFailed,
    double WallSeconds);
