namespace EfficientNet.Batch.Models.Architecture;

/// <summary>Explicit pads of one spatial axis for a TF "SAME" convolution.</summary>
/// <param name="Before">Pixels added at the top (or left).</param>
/// <param name="After">Pixels added at the bottom (or right); TF puts the odd pixel here.</param>
public readonly record struct AxisPadding(int Before, int After);

/// <summary>TF "SAME" padding (mmcv <c>Conv2dAdaptivePadding</c>, spec §1.3). The pads depend on the input size,
/// which is why every graph is exported at a fixed resolution.</summary>
public static class SamePadding
{
    public static int OutputSize(int inputSize, int stride) => (inputSize + stride - 1) / stride;

    public static AxisPadding For(int inputSize, int kernel, int stride)
    {
        var output = OutputSize(inputSize, stride);
        var total = Math.Max(((output - 1) * stride) + kernel - inputSize, 0);
        return new AxisPadding(total / 2, total - (total / 2));
    }
}
