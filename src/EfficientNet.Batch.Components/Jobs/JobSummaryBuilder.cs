using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Builds summary.json from a job's record, its shard outcomes (folded, <see cref="ShardOutcomeTotals"/>) and the
/// statistics gathered while merging.</summary>
public static class JobSummaryBuilder
{
    public static JobSummary Build(
        JobRecord job,
        ShardOutcomeTotals outcomes,
        MergeStatistics statistics,
        JobStatus status,
        string predictionsLocation,
        DateTimeOffset completedAt,
        IReadOnlyDictionary<string, string>? outputs = null,
        CostOptions? cost = null,
        ModelDescription? model = null)
    {
        // A custom model is described by the finalizer (from the model store); a zoo id needs no lookup. A custom model
        // the store no longer describes keeps its id, and the preprocessing its workers report.
        model ??= ModelCatalogue.TryGet(job.Spec.Model, out var zoo) ? ModelDescription.Zoo(zoo) : null;
        var variant = model?.Variant;
        var id = variant?.Id ?? ModelCatalogue.CanonicalId(job.Spec.Model);
        var arch = variant?.Arch ?? "unknown";
        var flavour = variant?.Flavour ?? CustomModel.Flavour;
        var wall = Math.Max((completedAt - job.SubmittedAt).TotalSeconds, 1e-9);
        var names = model?.ClassNames ?? [];
        var deviceSeconds = outcomes.DeviceSeconds;
        var weights = outcomes.Weights
            ?? (job.Spec.RandomWeights ? $"untrained (random weights, seed {job.Spec.Seed})" : "imported");
        return new JobSummary
        {
            JobId = job.JobId,
            Status = status,
            // What the workers applied (an imported model may override the catalogue's normalisation).
            Model = outcomes.Preprocessing is { } applied
                ? new SummaryModel(id, arch, flavour, applied.Resolution, applied.Normalization, applied.Mean, applied.Std)
                : variant is not null
                    ? new SummaryModel(id, arch, flavour, variant.Resolution, variant.NormalizationName, variant.Mean, variant.Std)
                    : new SummaryModel(id, arch, flavour, 0, "unknown", [], []),
            Weights = weights,
            // Random weights asked for, or stored weights whose provenance says they were generated (reported by workers).
            Untrained = job.Spec.RandomWeights || outcomes.Untrained,
            ExecutionProviders = [.. outcomes.ExecutionProviders],
            Precisions = [.. outcomes.Precisions],
            Dataset = job.Spec.Dataset,
            Predictions = predictionsLocation,
            ImagesTotal = statistics.Total,
            ImagesOk = statistics.Ok,
            ImagesFailed = statistics.Failed,
            ErrorsByKind = new SortedDictionary<string, long>(statistics.ErrorsByKind.ToDictionary(), StringComparer.Ordinal),
            ImagesPlanned = job.ImageCount,
            ImagesNotClassified = Math.Max(0, job.ImageCount - statistics.Total),
            CancelRequestedAt = job.CancelRequestedAt,
            SkippedFiles = job.SkippedFiles,
            Shards = job.ShardCount,
            FailedShards = [.. outcomes.FailedShards],
            ShardsByWorker = new SortedDictionary<string, int>(outcomes.ShardsByWorker.ToDictionary(), StringComparer.Ordinal),
            SubmittedAt = job.SubmittedAt,
            CompletedAt = completedAt,
            WallSeconds = Math.Round(wall, 3),
            ImagesPerSecond = Math.Round(statistics.Total / wall, 2),
            Top1Histogram = statistics.Top1
                .OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key)
                .Select(p => new ClassCount(p.Key, p.Key < names.Count ? names[p.Key] : p.Key.ToString(), p.Value))
                .ToList(),
            Accuracy = statistics.Labelled == 0
                ? null
                : new LabelAccuracy(
                    statistics.Labelled,
                    Math.Round((double)statistics.Top1Correct / statistics.Labelled, 4),
                    Math.Round((double)statistics.TopKCorrect / statistics.Labelled, 4)),
            // What the workers reported; for a job that classified nothing, the identity its reused records have.
            ModelIdentity = outcomes.Identities.Count > 0 ? outcomes.Identities.MinBy(i => i.Shard).Identity : job.Incremental?.Identity,
            Incremental = statistics.Incremental,
            Evaluation = statistics.Evaluation,
            Review = job.Spec.Review is { } review && outputs is not null
                ? new ReviewSummary(
                    review.MaxProbability,
                    review.MinMargin,
                    statistics.Review,
                    outputs[Outputs.ReviewOutputFormat.FormatName],
                    outputs[Outputs.LabelStudioOutputFormat.FormatName])
                : null,
            DeviceSeconds = deviceSeconds,
            Cost = Cost(deviceSeconds, cost, statistics.Total - (statistics.Incremental?.Reused ?? 0)),
            Outputs = outputs,
        };
    }

    /// <summary>The job's cost at the configured prices, and per 1,000 images it classified (reused records cost
    /// nothing); null when no price is set for a device kind the job used.</summary>
    public static CostSummary? Cost(IReadOnlyDictionary<string, double> deviceSeconds, CostOptions? options, long imagesClassified)
    {
        if (options is not { PricePerHour.Count: > 0 } || deviceSeconds.Count == 0 || deviceSeconds.Keys.Any(k => !options.PricePerHour.ContainsKey(k)))
        {
            return null;
        }

        var prices = new SortedDictionary<string, double>(
            deviceSeconds.Keys.ToDictionary(k => k, k => options.PricePerHour[k]), StringComparer.Ordinal);
        var total = deviceSeconds.Sum(p => p.Value / 3600 * prices[p.Key]);
        return new CostSummary(prices, Math.Round(total, 6), imagesClassified > 0 ? Math.Round(total / imagesClassified * 1000, 6) : 0);
    }
}
