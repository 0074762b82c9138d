namespace EfficientNet.Batch.Inference;

/// <summary>
/// Turns stored pixels upright by their EXIF orientation (1 to 8), as cv2.imread(IMREAD_COLOR) does: 2 mirror, 3 rotate
/// 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° anticlockwise.
/// </summary>
internal static class ExifOrientation
{
    public static bool IsIdentity(int orientation) => orientation is < 2 or > 8;

    /// <summary>The upright image: <paramref name="stored"/> itself for an identity orientation, else a new buffer
    /// (<paramref name="stored"/> is then disposed).</summary>
    public static RgbPixels Apply(RgbPixels stored, int orientation)
    {
        if (IsIdentity(orientation))
        {
            return stored;
        }

        var swaps = orientation >= 5;
        var upright = swaps ? new RgbPixels(stored.Height, stored.Width) : new RgbPixels(stored.Width, stored.Height);
        try
        {
            Copy(stored, upright, orientation);
            return upright;
        }
        catch
        {
            upright.Dispose();
            throw;
        }
        finally
        {
            stored.Dispose();
        }
    }

    // For each upright pixel (x, y), the stored pixel it comes from; w and h are the stored image's size.
    private static void Copy(RgbPixels stored, RgbPixels upright, int orientation)
    {
        ReadOnlySpan<byte> source = stored.Span;
        var target = upright.Span;
        int w = stored.Width, h = stored.Height, sourceStride = stored.Stride;
        for (var y = 0; y < upright.Height; y++)
        {
            var row = target.Slice(y * upright.Stride, upright.Stride);
            for (var x = 0; x < upright.Width; x++)
            {
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                source.Slice((sy * sourceStride) + (sx * RgbPixels.Channels), RgbPixels.Channels).CopyTo(row.Slice(x * RgbPixels.Channels, RgbPixels.Channels));
            }
        }
    }
}
