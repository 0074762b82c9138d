using System.Text.Json.Serialization;

namespace EfficientNet.Batch.Components.Benchmarking;

/// <summary>
/// What <see cref="ThroughputBenchmark"/> measured, in images per second (medians over interleaved rounds), and the figures derived from it. Decode and
/// inference share the same cores, so the pipeline can at best reach the combined limit 1 / (1/a + 1/b): the time
/// per image of both stages added up.
/// </summary>
public sealed record ThroughputReport
{
    public required string Model { get; init; }

    public required int Resolution { get; init; }

    public required int BatchSize { get; init; }

    public required string ExecutionProvider { get; init; }

    /// <summary>Float32 or Float16 (<c>Inference:Precision</c>).</summary>
    public required string Precision { get; init; }

    /// <summary>Logical processors of the machine (Environment.ProcessorCount).</summary>
    public required int Cores { get; init; }

    public required int DecodeThreads { get; init; }

    /// <summary>ONNX Runtime intra-op threads as configured (0 = ONNX Runtime's default, one per physical core).</summary>
    public required int IntraOpThreads { get; init; }

    /// <summary>Inference:IntraOpSpinning as configured.</summary>
    public string IntraOpSpinning { get; init; } = "";

    /// <summary>Images through the full pipeline (the inputs cycle through the distinct files).</summary>
    public required int Images { get; init; }

    /// <summary>Images measured by the decode-only and inference-only stages.</summary>
    public required int StageImages { get; init; }

    public required int DistinctFiles { get; init; }

    /// <summary>Interleaved measurements of every stage; the rates are their medians.</summary>
    public int Rounds { get; init; } = 1;

    /// <summary>Conv + fc multiply-adds of one image (ArchSpec.MultiplyAdds).</summary>
    public required long MultiplyAddsPerImage { get; init; }

    /// <summary>(a) Read-from-memory + decode + preprocess, all decode threads.</summary>
    public required double DecodeImagesPerSecond { get; init; }

    /// <summary>(b) ONNX Runtime on pre-made tensors, fixed batches, the tuned session.</summary>
    public required double InferenceImagesPerSecond { get; init; }

    /// <summary>(b') The same batches on a session with default SessionOptions, for comparison.</summary>
    public required double PlainInferenceImagesPerSecond { get; init; }

    /// <summary>Tuned over plain inference-only throughput in each round, the two sessions measured in alternating
    /// blocks (so each ratio compares the same minutes of the machine).</summary>
    public required IReadOnlyList<double> InferenceRatios { get; init; }

    /// <summary>(c) The real ImageBatchClassifier over the files' bytes held in memory.</summary>
    public required double PipelineImagesPerSecond { get; init; }

    public required int PipelineErrors { get; init; }

    /// <summary>Managed bytes allocated per image by the pipeline (last round), all threads: records and their
    /// classes, task and queue bookkeeping; the image bytes and tensors themselves come from pools.</summary>
    public required long PipelineAllocatedBytesPerImage { get; init; }

    /// <summary>Full (gen 2) garbage collections during the pipeline's last round.</summary>
    public required int PipelineGen2Collections { get; init; }

    /// <summary>Peak resident set of the process (VmHWM).</summary>
    public required long PeakRssBytes { get; init; }

    /// <summary>Highest RSS sampled while the pipeline did its first 1000 images (last round).</summary>
    public required long FirstThousandPeakRssBytes { get; init; }

    /// <summary>Highest RSS sampled while the pipeline did its last 1000 images (last round).</summary>
    public required long LastThousandPeakRssBytes { get; init; }

    /// <summary>Stage (a) per core it had: over the decode threads, or over the cores when there are more threads.</summary>
    public double DecodeImagesPerSecondPerCore => DecodeImagesPerSecond / Math.Max(1, Math.Min(Cores, DecodeThreads));

    /// <summary>1 / (1/a + 1/b): the most a pipeline can do when both stages share the cores.</summary>
    public double CombinedLimitImagesPerSecond => 1 / ((1 / DecodeImagesPerSecond) + (1 / InferenceImagesPerSecond));

    /// <summary>c / limit.</summary>
    public double PipelineEfficiency => PipelineImagesPerSecond / CombinedLimitImagesPerSecond;

    /// <summary>Tuned over plain inference-only throughput: the median of the per-round ratios.</summary>
    public double InferenceSpeedupOverPlain => Median(InferenceRatios);

    public double InferenceMultiplyAddsPerSecond => InferenceImagesPerSecond * MultiplyAddsPerImage;

    public double PlainInferenceMultiplyAddsPerSecond => PlainInferenceImagesPerSecond * MultiplyAddsPerImage;

    public double PipelineMultiplyAddsPerSecond => PipelineImagesPerSecond * MultiplyAddsPerImage;

    /// <summary>Last-1000 over first-1000 peak RSS: about 1 when memory stays flat.</summary>
    [JsonIgnore]
    public double RssGrowth => FirstThousandPeakRssBytes > 0 ? (double)LastThousandPeakRssBytes / FirstThousandPeakRssBytes : double.NaN;

    /// <summary>The middle value (the mean of the two middle values for an even count); NaN for none.</summary>
    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
