using System.Text.Json.Serialization;
using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>One line of an incremental job's plan (<c>shards/{job}/incremental.jsonl</c>), in dataset order: a reused
/// record, an image to classify, or (after all images) one the previous run had and today's dataset has not.</summary>
public sealed record PlanLine
{
    /// <summary>The previous record, reused as it is (with today's label and listing fingerprint).</summary>
    public PredictionRecord? Reuse { get; init; }

    /// <summary>Path of an image sent to the workers; its record comes from the job's shard results, in this order.</summary>
    public string? Classify { get; init; }

    /// <summary>Path of an image the previous run had and today's dataset has not.</summary>
    public string? Removed { get; init; }

    /// <summary>For a classified image: <c>new</c> or <c>changed</c>; null when it is classified only because the
    /// model identity changed.</summary>
    public string? Change { get; init; }

    /// <summary>The previous record's top-1 class, when there was a previous record with one.</summary>
    public PredictedClass? Previous { get; init; }
}

/// <summary>One line of changes.jsonl.</summary>
/// <param name="Change"><c>new</c>, <c>changed</c> (content), <c>removed</c>, or <c>rescored</c> (same content, new
/// model identity, top-1 changed).</param>
/// <param name="Top1Changed">True when a classified image's top-1 class differs from its previous record's.</param>
public sealed record ChangeRecord(
    string Path,
    string Change,
    bool? Top1Changed = null,
    PredictedClass? Previous = null,
    PredictedClass? Current = null,
    string? Error = null);

/// <summary><c>shards/{job}/identity.json</c>: the model identity a job was planned with, written before its first
/// shard, so that the committed shards of an interrupted run can be reused by the next one.</summary>
public sealed record PlannedRun(Guid JobId, ModelIdentity? Identity, DateTimeOffset PlannedAt);

/// <summary>The <c>incremental</c> block of summary.json.</summary>
/// <param name="Classified">Images sent to the workers.</param>
/// <param name="Reused">Records copied from the previous run.</param>
/// <param name="FullReason">Why nothing was reused, when nothing was.</param>
public sealed record IncrementalSummary(
    long Classified,
    long Reused,
    long New,
    long Changed,
    long Removed,
    long Top1Changed,
    string? Baseline,
    string? FullReason);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(PlanLine))]
[JsonSerializable(typeof(ChangeRecord))]
[JsonSerializable(typeof(PlannedRun))]
internal sealed partial class IncrementalJsonContext : JsonSerializerContext
{
}
