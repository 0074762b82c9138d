using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Models;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Builds summary.json from a job's record, its shard outcomes and the statistics gathered while merging.</summary>
public static class JobSummaryBuilder
{
    public static JobSummary Build(
        JobRecord job,
        IReadOnlyList<ShardOutcome> outcomes,
        MergeStatistics statistics,
        JobStatus status,
        string predictionsLocation,
        DateTimeOffset completedAt)
    {
        var variant = ModelCatalogue.Get(job.Spec.Model);
        var wall = Math.Max((completedAt - job.SubmittedAt).TotalSeconds, 1e-9);
        var names = ImageNetClasses.Names;
        var weights = outcomes.Select(o => o.Weights).FirstOrDefault(w => w is not null)
            ?? (job.Spec.RandomWeights ? $"untrained (random weights, seed {job.Spec.Seed})" : "imported");
        return new JobSummary
        {
            JobId = job.JobId,
            Status = status,
            // What the workers applied (an imported model may override the catalogue's normalisation).
            Model = outcomes.Select(o => o.Preprocessing).FirstOrDefault(p => p is not null) is { } applied
                ? new SummaryModel(variant.Id, variant.Arch, variant.Flavour, applied.Resolution, applied.Normalization, applied.Mean, applied.Std)
                : new SummaryModel(variant.Id, variant.Arch, variant.Flavour, variant.Resolution, variant.NormalizationName, variant.Mean, variant.Std),
            Weights = weights,
            Untrained = job.Spec.RandomWeights,
            ExecutionProviders = Distinct(outcomes.Select(o => o.ExecutionProvider)),
            Precisions = Distinct(outcomes.Select(o => o.Precision)),
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
            FailedShards = outcomes.Where(o => !o.Succeeded).Select(o => new FailedShard(o.ShardIndex, o.Reason)).ToList(),
            ShardsByWorker = new SortedDictionary<string, int>(
                outcomes.Where(o => o.Worker is not null).GroupBy(o => o.Worker!).ToDictionary(g => g.Key, g => g.Count()),
                StringComparer.Ordinal),
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
            ModelIdentity = outcomes.Where(o => o.Succeeded)
                .Select(o => ModelIdentityResolver.Reported(job.Spec, o.WeightsSha256, o.Preprocessing))
                .FirstOrDefault(i => i is not null) ?? job.Incremental?.Identity,
            Incremental = statistics.Incremental,
        };
    }

    private static List<string> Distinct(IEnumerable<string?> values) =>
        [.. values.OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}
