namespace EfficientNet.Batch.Inference;

/// <summary>A pixel rectangle inside an image: rows Top..Top+Height−1, columns Left..Left+Width−1.</summary>
public readonly record struct CropRectangle(int Top, int Left, int Height, int Width);

/// <summary>
/// The efficientnet-style centre crop of mmcls <c>CenterCrop(efficientnet_style=True, crop_padding=32)</c>
/// (spec §3.2), reproduced operation for operation so that crops match the reference pipeline exactly.
/// </summary>
public static class CenterCrop
{
    /// <summary>
    /// Crop for an image of <paramref name="height"/> × <paramref name="width"/> at model resolution
    /// <paramref name="resolution"/>: c = R/(R+32) · min(H, W); top = max(0, round_half_even((H − c)/2));
    /// last row = min(H − 1, trunc(top + c − 1)); columns likewise.
    /// </summary>
    public static CropRectangle Compute(int height, int width, int resolution, int cropPadding = PreprocessSpec.CropPadding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(cropPadding);

        // Python evaluates R / (R + 32) first, then multiplies: keep that order so c has the same double.
        var side = (double)resolution / (resolution + cropPadding) * Math.Min(height, width);
        var (top, rows) = Axis(height, side);
        var (left, columns) = Axis(width, side);
        return new CropRectangle(top, left, rows, columns);
    }

    private static (int Start, int Length) Axis(int length, double side)
    {
        // Math.Round defaults to half-to-even, which is Python 3's round().
        var start = Math.Max(0, (int)Math.Round((length - side) / 2));
        // mmcv.imcrop truncates the float box to int32 (toward zero) and slices [start, last + 1).
        var last = Math.Min(length - 1, (int)(start + side - 1));
        // Only a 1-pixel-wide side gives c < 1; the reference would slice an empty array and fail in
        // cv2.resize, so keep one pixel instead: the image still gets a (degenerate) prediction.
        return (start, Math.Max(1, last - start + 1));
    }
}
