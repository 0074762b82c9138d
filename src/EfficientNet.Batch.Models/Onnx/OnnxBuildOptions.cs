namespace EfficientNet.Batch.Models.Onnx;

/// <summary>How <see cref="EfficientNetOnnxBuilder"/> writes the graph.</summary>
public sealed record OnnxBuildOptions
{
    public static OnnxBuildOptions Default { get; } = new();

    /// <summary>True (default): every BatchNorm is folded into its conv's weight and bias at build time.
    /// False: each conv is written without bias and followed by an ONNX <c>BatchNormalization</c> node
    /// (epsilon <see cref="BatchNormFolding.Epsilon"/>) whose scale, B, mean and var are the checkpoint tensors,
    /// so ONNX Runtime fuses them at session load instead (see docs/benchmarks.md, "BatchNorm folding").</summary>
    public bool FoldBatchNorm { get; init; } = true;
}
