using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// JPEG → RGB pixels with libjpeg-turbo, the library cv2.imread decodes with on Debian, with its default settings, so the
/// pixels equal OpenCV's. Failures become <see cref="ImageDecodeException"/>s with a kind. Safe to call concurrently:
/// each call borrows a TurboJPEG handle (not thread-safe) from a process-wide pool.
/// </summary>
internal static class TurboJpegDecoder
{
    // At most one handle per concurrent decode; kept for the life of the process, like the threads that use them.
    private static readonly ConcurrentBag<nint> Handles = [];

    /// <summary>
    /// Whether TurboJPEG takes <paramref name="jpeg"/>: a header it reads, not CMYK/YCCK. Reads the header only.
    /// </summary>
    /// <exception cref="ImageDecodeException">The header declares more than <paramref name="maxPixels"/> pixels, or none.</exception>
    public static unsafe bool AcceptsHeader(ReadOnlySpan<byte> jpeg, long maxPixels)
    {
        var handle = Rent();
        try
        {
            fixed (byte* source = jpeg)
            {
                return ReadHeader(handle, source, jpeg.Length, maxPixels) is not null;
            }
        }
        finally
        {
            Handles.Add(handle);
        }
    }

    /// <summary>
    /// The stored (not yet oriented) pixels of <paramref name="jpeg"/>, or null when TurboJPEG should not decode it: a
    /// header it cannot read (the caller's other decoder decides) or a CMYK/YCCK image.
    /// </summary>
    /// <exception cref="ImageDecodeException">Too many pixels, or data libjpeg-turbo cannot decode.</exception>
    public static unsafe RgbPixels? Decode(ReadOnlySpan<byte> jpeg, long maxPixels)
    {
        var handle = Rent();
        try
        {
            fixed (byte* source = jpeg)
            {
                var size = new CULong((nuint)jpeg.Length);
                if (ReadHeader(handle, source, jpeg.Length, maxPixels) is not { } header)
                {
                    return null;
                }

                var (width, height) = header;

                var pixels = new RgbPixels(width, height);
                try
                {
                    fixed (byte* destination = pixels.Span)
                    {
                        if (TurboJpeg.Decompress2(handle, source, size, destination, width, pixels.Stride, height, TurboJpeg.PixelFormatRgb, 0) != 0)
                        {
                            ThrowUnlessHarmless(handle);
                        }
                    }

                    return pixels;
                }
                catch
                {
                    pixels.Dispose();
                    throw;
                }
            }
        }
        finally
        {
            Handles.Add(handle);
        }
    }

    // TurboJPEG's reading of the header, checked against the limit before any buffer exists; null when it cannot read
    // the header or the image is CMYK/YCCK.
    private static unsafe (int Width, int Height)? ReadHeader(nint handle, byte* source, int length, long maxPixels)
    {
        if (TurboJpeg.DecompressHeader3(handle, source, new CULong((nuint)length), out var width, out var height, out _, out var colorspace) != 0
            || colorspace is TurboJpeg.ColorspaceCmyk or TurboJpeg.ColorspaceYcck)
        {
            return null;
        }

        if ((long)width * height > maxPixels)
        {
            throw new ImageDecodeException(
                ImageDecodeErrorKind.TooLarge,
                $"too large: the JPEG header declares {width}x{height} = {(long)width * height:N0} pixels; the limit is {maxPixels:N0}.");
        }

        if (width < 1 || height < 1)
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.Corrupt, $"corrupt: the JPEG header declares {width}x{height} pixels.");
        }

        return (width, height);
    }

    private static nint Rent()
    {
        if (Handles.TryTake(out var handle))
        {
            return handle;
        }

        handle = TurboJpeg.InitDecompress();
        return handle != 0 ? handle : throw new InvalidOperationException($"tjInitDecompress failed: {TurboJpeg.ErrorMessage(0)}");
    }

    // A warning means libjpeg decoded the whole image and complained about something it skipped (extraneous bytes before
    // a marker, a bad restart interval); cv2.imread keeps such images, so they are kept. Running out of scan data ("premature
    // end of JPEG file", or "of data segment" when a marker comes early) is the exception: libjpeg fills the rest with grey,
    // which would become a confident wrong label, so it is truncation, an error record, as ImageIntegrity reports it.
    private static void ThrowUnlessHarmless(nint handle)
    {
        var message = TurboJpeg.ErrorMessage(handle);
        var endsEarly = message.Contains("premature end", StringComparison.OrdinalIgnoreCase);
        if (TurboJpeg.GetErrorCode(handle) == TurboJpeg.ErrorWarning && !endsEarly)
        {
            return;
        }

        var reason = endsEarly ? "truncated JPEG data" : "JPEG data cannot be decoded";
        throw new ImageDecodeException(ImageDecodeErrorKind.Corrupt, $"corrupt: {reason} (libjpeg-turbo: {message}).");
    }
}
