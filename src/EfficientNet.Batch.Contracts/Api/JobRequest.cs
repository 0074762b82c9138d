namespace EfficientNet.Batch.Contracts.Api;

/// <summary>Body of <c>POST /jobs</c>. Every member is optional here so that a missing one is reported by name.</summary>
/// <param name="Dataset">A folder/prefix of images or a manifest: <c>az://container/prefix</c>, <c>file:///path</c> or a path.</param>
/// <param name="Model">Catalogue id, e.g. <c>efficientnet_b3_advprop</c>.</param>
/// <param name="Output">Where predictions.jsonl and summary.json go (default: the coordinator's output location plus the
/// job id). A job owns its output: one that overlaps another job's is refused unless <paramref name="Overwrite"/>.</param>
/// <param name="ShardSize">Images per shard message (default: the coordinator's).</param>
/// <param name="TopK">Classes kept per image (default 5).</param>
/// <param name="RandomWeights">Use deterministic untrained weights (smoke tests, benchmarks).</param>
/// <param name="Seed">Seed of the untrained weights.</param>
/// <param name="Priority"><c>low</c>, <c>normal</c> (default) or <c>high</c>.</param>
/// <param name="Overwrite">Take over the output of a finished job that overlaps this one's.</param>
/// <param name="RescoreFrom">An earlier completed job of the caller's: re-score incrementally, reusing its record of
/// every image whose content and model identity are unchanged (summary.json's <c>incremental</c>, changes.jsonl).</param>
/// <param name="Outputs">Files to write: any of <c>jsonl</c>, <c>csv</c>, <c>parquet</c>, <c>report</c> (default: <c>jsonl</c>).</param>
/// <param name="Review">Write review.jsonl and a Label Studio export of the images below these bounds.</param>
public sealed record JobRequest(
    string? Dataset,
    string? Model,
    string? Output = null,
    int? ShardSize = null,
    int? TopK = null,
    bool? RandomWeights = null,
    int? Seed = null,
    JobPriority? Priority = null,
    bool? Overwrite = null,
    Guid? RescoreFrom = null,
    IReadOnlyList<string>? Outputs = null,
    ReviewSpec? Review = null);
