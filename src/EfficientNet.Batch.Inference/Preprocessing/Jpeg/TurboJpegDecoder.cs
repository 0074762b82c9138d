using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// JPEG → RGB pixels with libjpeg-turbo, the library cv2.imread decodes with on Debian, with its default settings, so the
/// pixels equal OpenCV's. Failures become <see cref="ImageDecodeException"/>s with a kind. Safe to call concurrently:
/// each call borrows a TurboJPEG handle (not thread-safe) from a process-wide pool.
/// </summary>
/// <remarks>
/// A handle goes back to the pool only after calls that succeeded. libjpeg-turbo 2.1's <c>tjDecompressHeader3</c> does not
/// reset its decompressor when it fails, so a handle that read one bad header fails every header after it: pooled, it
/// would silently send later, valid JPEGs to the other decoder. A handle that reported anything is destroyed instead.
/// </remarks>
internal static class TurboJpegDecoder
{
    // At most one handle per concurrent decode; kept for the life of the process, like the threads that use them.
    private static readonly ConcurrentBag<nint> Handles = [];

    /// <summary>
    /// The size TurboJPEG reads from <paramref name="jpeg"/>'s header, or null when TurboJPEG should not decode it: a header
    /// it cannot read or that declares no pixels (the caller's other decoder decides why), or a CMYK/YCCK image. Reads the
    /// header only.
    /// </summary>
    /// <exception cref="ImageDecodeException">The header declares more than <paramref name="maxPixels"/> pixels.</exception>
    public static unsafe JpegSize? ReadHeader(ReadOnlySpan<byte> jpeg, long maxPixels)
    {
        var handle = Rent();
        var healthy = false;
        try
        {
            int status, width, height, colorspace;
            fixed (byte* source = jpeg)
            {
                status = TurboJpeg.DecompressHeader3(handle, source, new CULong((nuint)jpeg.Length), out width, out height, out _, out colorspace);
            }

            // A header cut short is no error to TurboJPEG: it warns "premature end", succeeds, and declares 0x0.
            healthy = status == 0;
            if (!healthy || width < 1 || height < 1 || colorspace is TurboJpeg.ColorspaceCmyk or TurboJpeg.ColorspaceYcck)
            {
                return null;
            }

            if ((long)width * height > maxPixels)
            {
                throw new ImageDecodeException(
                    ImageDecodeErrorKind.TooLarge,
                    $"too large: the JPEG header declares {width}x{height} = {(long)width * height:N0} pixels; the limit is {maxPixels:N0}.");
            }

            return new JpegSize(width, height);
        }
        finally
        {
            Return(handle, healthy);
        }
    }

    /// <summary>The stored (not yet oriented) pixels of <paramref name="jpeg"/>, whose header <see cref="ReadHeader"/>
    /// read as <paramref name="size"/>.</summary>
    /// <exception cref="ImageDecodeException">Data libjpeg-turbo cannot decode.</exception>
    public static unsafe RgbPixels Decode(ReadOnlySpan<byte> jpeg, JpegSize size)
    {
        var pixels = new RgbPixels(size.Width, size.Height);
        var handle = Rent();
        var healthy = false;
        try
        {
            int status;
            fixed (byte* source = jpeg)
            fixed (byte* destination = pixels.Span)
            {
                status = TurboJpeg.Decompress2(
                    handle, source, new CULong((nuint)jpeg.Length), destination, size.Width, pixels.Stride, size.Height, TurboJpeg.PixelFormatRgb, 0);
            }

            healthy = status == 0;
            if (!healthy)
            {
                ThrowUnlessHarmless(handle);
            }

            return pixels;
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
        finally
        {
            Return(handle, healthy);
        }
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

    private static void Return(nint handle, bool healthy)
    {
        if (healthy)
        {
            Handles.Add(handle);
        }
        else
        {
            _ = TurboJpeg.Destroy(handle);
        }
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

/// <summary>A JPEG's size as its header declares it.</summary>
internal readonly record struct JpegSize(int Width, int Height);
