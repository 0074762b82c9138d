using EfficientNet.Batch.Components.Benchmarking;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Architecture;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

[Collection(WorkerCollection.Name)]
public sealed class ThroughputBenchmarkTests(WorkerFixture fixture)
{
    [Fact]
    public void Combined_limit_efficiency_and_multiply_adds_follow_from_the_stage_rates()
    {
        var report = Report(decode: 300, inference: 100, plain: 80, pipeline: 60) with
        {
            Cores = 2, MultiplyAddsPerImage = 400_000_000, InferenceRatios = [1.4, 0.9, 1.25],
        };

        Assert.Equal(75, report.CombinedLimitImagesPerSecond, 9); // 1 / (1/300 + 1/100)
        Assert.Equal(0.8, report.PipelineEfficiency, 9);
        Assert.Equal(150, report.DecodeImagesPerSecondPerCore, 9);
        // One decode thread on two cores had one core: its rate is the per-core rate.
        Assert.Equal(300, (report with { DecodeThreads = 1 }).DecodeImagesPerSecondPerCore, 9);
        Assert.Equal(100, (report with { Cores = 3, DecodeThreads = 8 }).DecodeImagesPerSecondPerCore, 9);
        Assert.Equal(1.25, report.InferenceSpeedupOverPlain, 9); // the median of the paired per-round ratios
        Assert.Equal(40e9, report.InferenceMultiplyAddsPerSecond, 3);
        Assert.Equal(24e9, report.PipelineMultiplyAddsPerSecond, 3);
    }

    [Fact]
    public async Task A_tiny_run_measures_every_stage_of_the_configured_model()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 2);
        using var _ = sessions;
        var benchmark = new ThroughputBenchmark(
            fixture.Models,
            sessions,
            new PreprocessorCache(),
            classifier,
            Options.Create(new WorkerOptions { DecodeParallelism = 2 }),
            Options.Create(new InferenceOptions { Device = InferenceDevice.Cpu, IntraOpThreads = 1, BatchSize = 2 }));
        using var log = new StringWriter();

        var report = await benchmark.RunAsync(
            new ThroughputBenchmarkSettings(WorkerFixture.ModelId, fixture.SamplesDirectory, Count: 3, RandomWeights: true, Seed: 0, StageCount: 2, Rounds: 2),
            log,
            CancellationToken.None);

        Assert.Equal(3, report.Images);
        Assert.Equal(2, report.Rounds);
        Assert.Equal(2, report.StageImages);
        Assert.Equal(2, report.BatchSize);
        Assert.Equal(2, report.DecodeThreads);
        Assert.Equal(Environment.ProcessorCount, report.Cores);
        Assert.Equal(ArchSpec.Get("b0").MultiplyAdds, report.MultiplyAddsPerImage);
        Assert.Equal(0, report.PipelineErrors);
        Assert.All(
            new[] { report.DecodeImagesPerSecond, report.InferenceImagesPerSecond, report.PlainInferenceImagesPerSecond, report.PipelineImagesPerSecond },
            rate => Assert.True(rate > 0 && double.IsFinite(rate)));
        Assert.Equal(2, report.InferenceRatios.Count);
        Assert.All(report.InferenceRatios, ratio => Assert.True(ratio > 0 && double.IsFinite(ratio)));
        Assert.True(report.PipelineAllocatedBytesPerImage > 0, $"allocated {report.PipelineAllocatedBytesPerImage}");
        Assert.True(report.PeakRssBytes >= report.LastThousandPeakRssBytes && report.LastThousandPeakRssBytes > 0, $"peak {report.PeakRssBytes}, last 1000 {report.LastThousandPeakRssBytes}");
        Assert.Contains("(c) full pipeline", log.ToString());
    }

    private static ThroughputReport Report(double decode, double inference, double plain, double pipeline) => new()
    {
        Model = "efficientnet_b0",
        Resolution = 224,
        BatchSize = 16,
        ExecutionProvider = ExecutionProviderNames.Cpu,
        Precision = "Float32",
        Cores = 1,
        DecodeThreads = 2,
        IntraOpThreads = 0,
        Images = 1000,
        StageImages = 1000,
        DistinctFiles = 1000,
        MultiplyAddsPerImage = 1,
        DecodeImagesPerSecond = decode,
        InferenceImagesPerSecond = inference,
        PlainInferenceImagesPerSecond = plain,
        InferenceRatios = [inference / plain],
        PipelineImagesPerSecond = pipeline,
        PipelineErrors = 0,
        PipelineAllocatedBytesPerImage = 0,
        PipelineGen2Collections = 0,
        PeakRssBytes = 1,
        FirstThousandPeakRssBytes = 1,
        LastThousandPeakRssBytes = 1,
    };
}
