using System.Text.Json.Serialization;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Components.Shards;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>One line of predictions.jsonl: the top-k classes of an image, or why it could not be classified.</summary>
public sealed record PredictionRecord
{
    public required string Path { get; init; }

    /// <summary>Ground-truth class index when the manifest gave one.</summary>
    public int? Label { get; init; }

    public IReadOnlyList<PredictedClass>? Top { get; init; }

    public string? Error { get; init; }

    /// <summary>Machine-readable error category, e.g. <c>corrupt</c>, <c>too-large</c>, <c>not-found</c>.</summary>
    public string? ErrorKind { get; init; }

    /// <summary>The image's content fingerprint (shard results; <c>classify</c> output has none): what decides
    /// whether an incremental run may reuse this record.</summary>
    public ImageFingerprint? Fingerprint { get; init; }

    /// <summary>A small JPEG of what the model saw (base64), made by the worker from the image it decoded when the job
    /// asked for a report. Only shard results carry it: the job's outputs leave it out.</summary>
    public string? Thumbnail { get; init; }

    [JsonIgnore]
    public bool IsError => Error is not null;

    [JsonIgnore]
    public PredictedClass? Top1 => Top is { Count: > 0 } top ? top[0] : null;

    public static PredictionRecord Failure(string path, int? label, string kind, string message) =>
        new() { Path = path, Label = label, Error = message, ErrorKind = kind };
}

public sealed record PredictedClass(int Index, string Name, float Probability);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(PredictionRecord))]
[JsonSerializable(typeof(JobRecord))]
[JsonSerializable(typeof(ShardOutcome))]
[JsonSerializable(typeof(JobSummary))]
[JsonSerializable(typeof(FinalizeLease))]
[JsonSerializable(typeof(ShardPlanPage))]
[JsonSerializable(typeof(ShardOutcomeTotalsSnapshot))]
internal sealed partial class JobJsonContext : JsonSerializerContext
{
}

/// <summary>Indented variant for the human-facing documents (job.json, summary.json).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(JobRecord))]
[JsonSerializable(typeof(JobSummary))]
internal sealed partial class IndentedJobJsonContext : JsonSerializerContext
{
}
