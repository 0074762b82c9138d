using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>summary.json: what ran, on what, how fast, and what came out.</summary>
public sealed record JobSummary
{
    public required Guid JobId { get; init; }

    public required JobStatus Status { get; init; }

    public required SummaryModel Model { get; init; }

    /// <summary>Where the weights came from, e.g. "untrained (random weights, seed 42)" or an imported file and its hash.</summary>
    public required string Weights { get; init; }

    public required bool Untrained { get; init; }

    public required IReadOnlyList<string> ExecutionProviders { get; init; }

    /// <summary>The number formats the shards were computed in (<c>Inference:Precision</c> of their workers): Float32,
    /// Float16 or both, when workers were configured differently.</summary>
    public required IReadOnlyList<string> Precisions { get; init; }

    public required string Dataset { get; init; }

    public required string Predictions { get; init; }

    public required long ImagesTotal { get; init; }

    public required long ImagesOk { get; init; }

    public required long ImagesFailed { get; init; }

    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Images the dataset listed for this job.</summary>
    public long ImagesPlanned { get; init; }

    /// <summary>Images of a cancelled job that no committed shard covered (0 for a job that ran to the end).</summary>
    public long ImagesNotClassified { get; init; }

    /// <summary>When a cancel was requested (a <c>Cancelled</c> job).</summary>
    public DateTimeOffset? CancelRequestedAt { get; init; }

    public required long SkippedFiles { get; init; }

    public required int Shards { get; init; }

    public required IReadOnlyList<FailedShard> FailedShards { get; init; }

    public required IReadOnlyDictionary<string, int> ShardsByWorker { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    public required double WallSeconds { get; init; }

    public required double ImagesPerSecond { get; init; }

    public required IReadOnlyList<ClassCount> Top1Histogram { get; init; }

    /// <summary>Present when the dataset carried ground-truth labels.</summary>
    public LabelAccuracy? Accuracy { get; init; }

    /// <summary>Model id, weights and preprocessing the records were computed with: a later incremental run reuses
    /// them only under the same identity.</summary>
    public EfficientNet.Batch.Components.Incremental.ModelIdentity? ModelIdentity { get; init; }

    /// <summary>An incremental run's counts: classified, reused, new, changed, removed, top-1 changed.</summary>
    public EfficientNet.Batch.Components.Incremental.IncrementalSummary? Incremental { get; init; }

    /// <summary>Top-1/top-5, per-class metrics, confused pairs and calibration, when the records carried labels.</summary>
    public EfficientNet.Batch.Components.Evaluation.EvaluationResult? Evaluation { get; init; }

    /// <summary>The review queue: its bounds, how many images it holds and where.</summary>
    public ReviewSummary? Review { get; init; }

    /// <summary>Device-seconds the job's shards used, per device kind (<c>cpu</c>, <c>cuda</c>).</summary>
    public IReadOnlyDictionary<string, double>? DeviceSeconds { get; init; }

    /// <summary>What the job cost at the configured prices (<c>Cost:PricePerHour:Cpu</c>, <c>Cost:PricePerHour:Cuda</c>).</summary>
    public CostSummary? Cost { get; init; }

    /// <summary>Every file the job wrote, by format name (<c>jsonl</c>, <c>csv</c>, <c>parquet</c>, <c>report</c>, <c>review</c>, …).</summary>
    public IReadOnlyDictionary<string, string>? Outputs { get; init; }
}

public sealed record ReviewSummary(double? MaxProbability, double? MinMargin, long Images, string Location, string LabelStudioLocation);

/// <summary>Cost of a job: device-seconds priced per hour, and the same per 1,000 images classified.</summary>
public sealed record CostSummary(IReadOnlyDictionary<string, double> PricePerHour, double Total, double Per1000Images);

public sealed record SummaryModel(
    string Id,
    string Arch,
    string Flavour,
    int Resolution,
    string Normalization,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std);

public sealed record FailedShard(int Index, string? Reason);

public sealed record ClassCount(int Index, string Name, long Count);

public sealed record LabelAccuracy(long Labelled, double Top1, double TopK);
