using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Inference;

namespace EfficientNet.Batch.Components.Tests.Reports;

/// <summary>Summaries, records and thumbnails the report tests render.</summary>
internal static class ReportTestData
{
    /// <summary>A real 96 px JPEG (base64) of a smooth gradient: about 2 KB, like a worker's thumbnail of a photo.</summary>
    public static readonly Lazy<string> GradientThumbnail = new(() =>
    {
        const int resolution = 224;
        var spec = PreprocessSpec.ImageNet(resolution);
        var rgb = new byte[resolution * resolution * 3];
        for (var y = 0; y < resolution; y++)
        {
            for (var x = 0; x < resolution; x++)
            {
                var i = ((y * resolution) + x) * 3;
                rgb[i] = (byte)x;
                rgb[i + 1] = (byte)y;
                rgb[i + 2] = (byte)((x * y) % 256);
            }
        }

        var tensor = new float[spec.TensorLength];
        new ImagePreprocessor(spec).Normalise(rgb, tensor);
        return Thumbnails.FromTensor(tensor, resolution, spec.MeanRgb, spec.StdRgb);
    });

    public static PredictionRecord Ok(string path, int index, float probability, int? label = null, string? thumbnail = null, string? name = null) => new()
    {
        Path = path,
        Label = label,
        Top = [new PredictedClass(index, name ?? $"class-{index}", probability), new PredictedClass(index + 1, $"class-{index + 1}", (1 - probability) / 2)],
        Thumbnail = thumbnail,
    };

    public static JobSummary Summary(ReportSampler samples, EvaluationResult? evaluation = null, long failed = 0, IReadOnlyDictionary<string, long>? errors = null) => new()
    {
        JobId = Guid.Parse("6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e"),
        Status = failed > 0 ? JobStatus.CompletedWithErrors : JobStatus.Completed,
        Model = new SummaryModel("efficientnet_b0", "b0", "standard", 224, "imagenet", [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]),
        Weights = "untrained (random weights, seed 0)",
        Untrained = true,
        ExecutionProviders = ["CPUExecutionProvider"],
        Precisions = ["Float32"],
        Dataset = "/data/photos",
        Predictions = "/data/out/predictions.jsonl",
        ImagesTotal = samples.Records,
        ImagesOk = samples.Records - failed,
        ImagesFailed = failed,
        ErrorsByKind = errors ?? new Dictionary<string, long>(),
        SkippedFiles = 0,
        Shards = 4,
        FailedShards = [],
        ShardsByWorker = new Dictionary<string, int> { ["worker-1"] = 4 },
        SubmittedAt = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero),
        CompletedAt = new DateTimeOffset(2025, 3, 1, 12, 4, 10, TimeSpan.Zero),
        WallSeconds = 250,
        ImagesPerSecond = Math.Round(samples.Records / 250.0, 2),
        Top1Histogram = samples.Classes.Select(c => new ClassCount(c.Index, c.Name, c.Count)).ToList(),
        Evaluation = evaluation,
        DeviceSeconds = new Dictionary<string, double> { ["cpu"] = 812.5, ["cuda"] = 120 },
        Cost = new CostSummary(new Dictionary<string, double> { ["cpu"] = 0.05, ["cuda"] = 2.5 }, 0.0946, 0.0946 * 1000 / Math.Max(1, samples.Records)),
    };

    /// <summary>An evaluation computed from <paramref name="records"/> (a plain reference computation for the tests:
    /// the report only displays what it is given).</summary>
    public static EvaluationResult EvaluationOf(IReadOnlyList<PredictionRecord> records, Func<int, string> name)
    {
        var labelled = records.Where(r => r.Label is not null).ToList();
        var evaluated = labelled.Where(r => !r.IsError).ToList();
        double Rate(Func<PredictionRecord, bool> hit) => evaluated.Count == 0 ? 0 : (double)evaluated.Count(hit) / evaluated.Count;
        var classes = evaluated.Select(r => r.Label!.Value).Concat(evaluated.Select(r => r.Top1!.Index)).Distinct().Order()
            .Select(c =>
            {
                var support = evaluated.Count(r => r.Label == c);
                var predicted = evaluated.Count(r => r.Top1!.Index == c);
                var correct = evaluated.Count(r => r.Label == c && r.Top1!.Index == c);
                var recall = support == 0 ? 0 : (double)correct / support;
                return new ClassMetrics(c, name(c), support, predicted, correct, recall, predicted == 0 ? 0 : (double)correct / predicted, recall);
            })
            .ToList();
        var pairs = evaluated.Where(r => r.Top1!.Index != r.Label)
            .GroupBy(r => (Actual: r.Label!.Value, Predicted: r.Top1!.Index))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Actual).ThenBy(g => g.Key.Predicted)
            .Take(20)
            .Select(g => new ConfusedPair(g.Key.Actual, name(g.Key.Actual), g.Key.Predicted, name(g.Key.Predicted), g.Count(), g.Take(3).Select(r => r.Path).ToList()))
            .ToList();
        var bins = Enumerable.Range(0, 10).Select(b =>
        {
            var inBin = evaluated.Where(r => Math.Min((int)(r.Top1!.Probability * 10), 9) == b).ToList();
            return new CalibrationBin(b / 10.0, (b + 1) / 10.0, inBin.Count,
                inBin.Count == 0 ? 0 : inBin.Average(r => r.Top1!.Probability), inBin.Count == 0 ? 0 : (double)inBin.Count(r => r.Top1!.Index == r.Label) / inBin.Count);
        }).ToList();
        var ece = evaluated.Count == 0 ? 0 : bins.Sum(b => (double)b.Count / evaluated.Count * Math.Abs(b.MeanConfidence - b.Accuracy));
        return new EvaluationResult(
            labelled.Count, evaluated.Count, labelled.Count - evaluated.Count,
            Rate(r => r.Top1!.Index == r.Label), Rate(r => r.Top!.Take(5).Any(c => c.Index == r.Label)), 5, ece, classes, pairs, bins);
    }

    public static async Task<string> RenderAsync(JobSummary summary, ReportSampler samples)
    {
        using var html = new MemoryStream();
        await ReportRenderer.WriteAsync(html, summary, samples, CancellationToken.None);
        return System.Text.Encoding.UTF8.GetString(html.ToArray());
    }
}
