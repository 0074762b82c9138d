namespace EfficientNet.Batch.Inference;

/// <summary>
/// Test-time preprocessing of one model (spec §3): centre crop, OpenCV bicubic resize to
/// <paramref name="Resolution"/>², then (x − mean) / std per RGB channel, laid out CHW.
/// </summary>
/// <param name="Resolution">Output side R in pixels (b0 224 … b8 672).</param>
/// <param name="MeanRgb">Per-channel mean in 0..255 pixel units, R, G, B.</param>
/// <param name="StdRgb">Per-channel standard deviation in 0..255 pixel units, R, G, B.</param>
public sealed record PreprocessSpec(int Resolution, float[] MeanRgb, float[] StdRgb)
{
    /// <summary>Padding of the efficientnet-style crop: c = R / (R + 32) · min(H, W).</summary>
    public const int CropPadding = 32;

    /// <summary>ImageNet statistics used by the standard and AutoAugment checkpoints.</summary>
    public static PreprocessSpec ImageNet(int resolution) =>
        new(resolution, [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    /// <summary>127.5 / 127.5, mapping pixels to [−1, 1] (AdvProp, EdgeTPU configs).</summary>
    public static PreprocessSpec MinusOneToOne(int resolution) =>
        new(resolution, [127.5f, 127.5f, 127.5f], [127.5f, 127.5f, 127.5f]);

    /// <summary>Floats in one preprocessed image: 3 · R · R.</summary>
    public int TensorLength => 3 * Resolution * Resolution;

    /// <summary>Throws when the spec cannot describe a valid preprocessing (checked once, not per image).</summary>
    public void Validate()
    {
        if (Resolution is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(Resolution), Resolution, "Resolution must be within 1..4096.");
        }

        if (MeanRgb is not { Length: 3 } || StdRgb is not { Length: 3 })
        {
            throw new ArgumentException("MeanRgb and StdRgb must each hold exactly three values (R, G, B).");
        }

        foreach (var std in StdRgb)
        {
            if (!(std > 0) || float.IsInfinity(std))
            {
                throw new ArgumentException($"Every StdRgb value must be positive and finite; got {std}.");
            }
        }
    }

    // Records compare arrays by reference; a spec is a value, so compare the numbers.
    public bool Equals(PreprocessSpec? other) =>
        other is not null && Resolution == other.Resolution &&
        MeanRgb.AsSpan().SequenceEqual(other.MeanRgb) && StdRgb.AsSpan().SequenceEqual(other.StdRgb);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Resolution);
        foreach (var value in MeanRgb)
        {
            hash.Add(value);
        }

        foreach (var value in StdRgb)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}
