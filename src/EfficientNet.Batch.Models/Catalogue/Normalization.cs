namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>Per-channel (RGB) normalisation applied after scaling pixels to float: (x − mean) / std (spec §3).</summary>
public sealed record Normalization(string Name, float[] Mean, float[] Std)
{
    /// <summary>ImageNet mean/std on 0..255 pixels: standard, AutoAugment and RandAugment configs.</summary>
    public static Normalization ImageNet { get; } = new("imagenet", [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    /// <summary>127.5/127.5, mapping pixels to [−1, 1]: AdvProp and the released EdgeTPU configs ("01norm").</summary>
    public static Normalization ZeroOne { get; } = new("01", [127.5f, 127.5f, 127.5f], [127.5f, 127.5f, 127.5f]);
}
