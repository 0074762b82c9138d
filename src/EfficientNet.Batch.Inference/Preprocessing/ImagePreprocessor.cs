using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace EfficientNet.Batch.Inference;

/// <summary>Facts about one preprocessed image, for result records and diagnostics.</summary>
/// <param name="Format">Decoder's format name, e.g. "JPEG", "PNG".</param>
/// <param name="Width">Width after EXIF orientation.</param>
/// <param name="Height">Height after EXIF orientation.</param>
/// <param name="Crop">The centre crop that was resized to R × R.</param>
public readonly record struct PreprocessedImage(string Format, int Width, int Height, CropRectangle Crop);

/// <summary>
/// Encoded image → normalised CHW float tensor for one <see cref="PreprocessSpec"/>, matching the mmcls test
/// pipeline (spec §3): decode to RGB with EXIF orientation, efficientnet centre crop, OpenCV-exact bicubic
/// resize, (x − mean) / std. One instance per spec; immutable, so safe to share across threads.
/// </summary>
/// <remarks>
/// Colour handling follows cv2.imread(IMREAD_COLOR): grayscale is replicated to three channels, alpha is
/// dropped (not composited), palette images are expanded, CMYK/YCCK JPEGs are converted. 16-bit channels are
/// scaled to 8 bits by ImageSharp (v · 255 / 65535, rounded); OpenCV shifts right by 8, so 16-bit PNGs can
/// differ from the reference by one level. JPEGs are decoded by libjpeg-turbo, as OpenCV decodes them, so their
/// pixels equal cv2.imread's (<see cref="JpegDecoderKind"/>); CMYK/YCCK JPEGs, and every JPEG when the library is
/// missing or <see cref="JpegDecoderKind.ImageSharp"/> is chosen, go to ImageSharp, whose IDCT and chroma upsampling
/// differ from libjpeg's by a few levels.
/// </remarks>
public sealed class ImagePreprocessor
{
    /// <summary>Default pixel limit checked before decoding: 100 megapixels (≈ 300 MB as RGB).</summary>
    public const long DefaultMaxPixels = 100_000_000;

    private const int Channels = 3;

    private readonly Configuration _configuration;
    private readonly float[] _normalisation; // 3 × 256 lookup: (v − mean[c]) / std[c]

    /// <exception cref="InvalidOperationException"><paramref name="jpegDecoder"/> is <see cref="JpegDecoderKind.TurboJpeg"/>
    /// and the library does not load.</exception>
    public ImagePreprocessor(PreprocessSpec spec, long maxPixels = DefaultMaxPixels, JpegDecoderKind jpegDecoder = JpegDecoderKind.Auto)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        Spec = spec;
        MaxPixels = maxPixels;
        JpegDecoder = jpegDecoder switch
        {
            JpegDecoderKind.Auto => TurboJpegLibrary.IsAvailable ? JpegDecoderKind.TurboJpeg : JpegDecoderKind.ImageSharp,
            JpegDecoderKind.TurboJpeg when !TurboJpegLibrary.IsAvailable => throw new InvalidOperationException($"The TurboJpeg JPEG decoder was asked for, but {TurboJpegLibrary.LoadError}."),
            JpegDecoderKind.TurboJpeg or JpegDecoderKind.ImageSharp => jpegDecoder,
            _ => throw new ArgumentOutOfRangeException(nameof(jpegDecoder), jpegDecoder, "Unknown JPEG decoder."),
        };
        _configuration = Configuration.Default.Clone();
        // One contiguous pixel buffer lets the resizer read the decoded image in place, without a copy.
        _configuration.PreferContiguousImageBuffers = true;
        // Throughput comes from preprocessing many images at once; splitting one image across cores only adds
        // scheduling overhead and makes per-image cost unpredictable.
        _configuration.MaxDegreeOfParallelism = 1;
        _normalisation = new float[Channels * 256];
        for (var channel = 0; channel < Channels; channel++)
        {
            for (var value = 0; value < 256; value++)
            {
                _normalisation[(channel * 256) + value] = (value - spec.MeanRgb[channel]) / spec.StdRgb[channel];
            }
        }
    }

    public PreprocessSpec Spec { get; }

    /// <summary>Largest width × height accepted; larger images fail with <see cref="ImageDecodeErrorKind.TooLarge"/>.</summary>
    public long MaxPixels { get; }

    /// <summary>The decoder JPEGs get: <see cref="JpegDecoderKind.TurboJpeg"/> or <see cref="JpegDecoderKind.ImageSharp"/>
    /// (never <see cref="JpegDecoderKind.Auto"/>, which is resolved when the preprocessor is made).</summary>
    public JpegDecoderKind JpegDecoder { get; }

    /// <summary>Floats written per image: 3 · R · R.</summary>
    public int TensorLength => Spec.TensorLength;

    /// <summary>Reads <paramref name="encoded"/> to its end, then preprocesses it into <paramref name="destinationChw"/>.</summary>
    /// <exception cref="ImageDecodeException">The bytes are not a usable image.</exception>
    public async ValueTask<PreprocessedImage> PreprocessAsync(Stream encoded, Memory<float> destinationChw, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var bytes = await EncodedImage.ReadAsync(encoded, long.MaxValue, cancellationToken).ConfigureAwait(false);
        return Preprocess(bytes.Bytes, destinationChw.Span);
    }

    /// <summary>
    /// Preprocesses one encoded image into <paramref name="destinationChw"/> (3 · R · R floats, R, G, B planes). Before
    /// any pixel buffer exists, the file must be whole (<see cref="ImageIntegrity"/>), declare a size within
    /// <see cref="MaxPixels"/>, and, when <paramref name="fileName"/> is given, be the format its extension names.
    /// </summary>
    /// <exception cref="ImageDecodeException">The bytes are not a usable image.</exception>
    public PreprocessedImage Preprocess(ReadOnlyMemory<byte> encoded, Span<float> destinationChw, string? fileName = null)
    {
        if (destinationChw.Length < TensorLength)
        {
            throw new ArgumentException($"Destination holds {destinationChw.Length} floats; {TensorLength} are needed.", nameof(destinationChw));
        }

        var format = DetectFormat(encoded, fileName);
        if (DecodeWithTurboJpeg(encoded.Span, format) is { } pixels)
        {
            using (pixels)
            {
                var turboCrop = CenterCrop.Compute(pixels.Height, pixels.Width, Spec.Resolution);
                ResizeAndNormalise(pixels.Span, pixels.Stride, turboCrop, destinationChw);
                return new PreprocessedImage(format.Name, pixels.Width, pixels.Height, turboCrop);
            }
        }

        using var stream = OpenReadOnly(encoded);
        Inspect(stream, encoded.Span, format);
        using var image = Decode(stream, format);
        var crop = CenterCrop.Compute(image.Height, image.Width, Spec.Resolution);
        ResizeAndNormalise(image, crop, destinationChw);
        return new PreprocessedImage(format.Name, image.Width, image.Height, crop);
    }

    /// <summary>The upright RGB pixels libjpeg-turbo decodes from <paramref name="encoded"/>, after the same checks as
    /// <see cref="Preprocess"/>; null when the image goes to ImageSharp (not a JPEG, CMYK, or ImageSharp chosen).</summary>
    internal RgbPixels? DecodeWithTurboJpeg(ReadOnlyMemory<byte> encoded, string? fileName = null) =>
        DecodeWithTurboJpeg(encoded.Span, DetectFormat(encoded, fileName));

    /// <summary>The upright pixels ImageSharp decodes from <paramref name="encoded"/>, after the same checks as
    /// <see cref="Preprocess"/>: the other decoder, for comparisons.</summary>
    internal Image<Rgb24> DecodeWithImageSharp(ReadOnlyMemory<byte> encoded, string? fileName = null)
    {
        var format = DetectFormat(encoded, fileName);
        using var stream = OpenReadOnly(encoded);
        Inspect(stream, encoded.Span, format);
        return Decode(stream, format);
    }

    // Everything decided before any pixel buffer exists: not empty, a known format matching its extension (here), a
    // header within the pixel limit, and a whole file (Inspect, or TurboJpegDecoder's header read for the JPEGs it takes).
    private IImageFormat DetectFormat(ReadOnlyMemory<byte> encoded, string? fileName)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.Empty, "The image file is empty (0 bytes).");
        }

        var format = Image.DetectFormat(_configuration, encoded.Span) ?? throw UnknownFormat(encoded.Length, null);
        if (ImageIntegrity.FindExtensionMismatch(_configuration, fileName, format) is { } mismatch)
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.ExtensionMismatch, $"{mismatch}.");
        }

        return format;
    }

    // Leaves the stream at its start again, for the decode that follows.
    private void Inspect(MemoryStream stream, ReadOnlySpan<byte> encoded, IImageFormat format)
    {
        Identify(stream, format, encoded);
        stream.Position = 0;
        if (ImageIntegrity.FindDamage(format, encoded) is { } damage)
        {
            throw Corrupt(damage, null);
        }
    }

    // libjpeg-turbo reads the header (size within the limit, before any buffer), then the structural check, then the
    // pixels; the EXIF orientation comes from a direct read of the APP1 segment. ImageSharp's header read (Identify)
    // parses every metadata block and cost as much as a third of the decode: it now runs only for the files that go to
    // ImageSharp. Null: not a JPEG, CMYK/YCCK, a header TurboJPEG cannot read, or ImageSharp chosen.
    private RgbPixels? DecodeWithTurboJpeg(ReadOnlySpan<byte> encoded, IImageFormat format)
    {
        if (JpegDecoder != JpegDecoderKind.TurboJpeg || format is not JpegFormat || TurboJpegDecoder.ReadHeader(encoded, MaxPixels) is not { } size)
        {
            return null;
        }

        if (ImageIntegrity.FindDamage(format, encoded) is { } damage)
        {
            throw Corrupt(damage, null);
        }

        return ExifOrientation.Apply(TurboJpegDecoder.Decode(encoded, size), JpegExifOrientation.Read(encoded));
    }

    private static MemoryStream OpenReadOnly(ReadOnlyMemory<byte> encoded) =>
        MemoryMarshal.TryGetArray(encoded, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(encoded.ToArray(), writable: false);

    // Reads the header, not the pixels: a 69-byte PNG can declare 50000 × 50000 pixels (7.5 GB decoded). Runs before
    // the structural checks, so that a bomb is reported as too large even when it is also cut short.
    private IImageInfo Identify(MemoryStream stream, IImageFormat format, ReadOnlySpan<byte> encoded)
    {
        IImageInfo? info;
        try
        {
            info = Image.Identify(_configuration, stream);
        }
        catch (UnknownImageFormatException exception)
        {
            throw UnknownFormat(stream.Length, exception);
        }
        catch (Exception exception) when (IsDecoderFailure(exception))
        {
            // The structural check usually says why in the user's terms ("truncated"), rather than the decoder's.
            throw Corrupt(ImageIntegrity.FindDamage(format, encoded) ?? $"unreadable {format.Name} header ({exception.Message})", exception);
        }

        if (info is null)
        {
            throw UnknownFormat(stream.Length, null);
        }

        var pixels = (long)info.Width * info.Height;
        if (info.Width < 1 || info.Height < 1)
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.Corrupt, $"corrupt: the {format.Name} header declares {info.Width}x{info.Height} pixels.");
        }

        if (pixels > MaxPixels)
        {
            throw new ImageDecodeException(
                ImageDecodeErrorKind.TooLarge,
                $"too large: the {format.Name} header declares {info.Width}x{info.Height} = {pixels:N0} pixels; the limit is {MaxPixels:N0}.");
        }

        return info;
    }

    private Image<Rgb24> Decode(MemoryStream stream, IImageFormat format)
    {
        Image<Rgb24> image;
        try
        {
            image = Image.Load<Rgb24>(_configuration, stream);
        }
        catch (UnknownImageFormatException exception)
        {
            throw UnknownFormat(stream.Length, exception);
        }
        catch (NotSupportedException exception)
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.Unsupported, $"unsupported: {format.Name} feature not supported ({exception.Message}).", exception);
        }
        catch (InvalidMemoryOperationException exception)
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.TooLarge, $"too large: {format.Name} needs more memory than the decoder may use ({exception.Message}).", exception);
        }
        catch (Exception exception) when (IsDecoderFailure(exception))
        {
            throw new ImageDecodeException(ImageDecodeErrorKind.Corrupt, $"corrupt: {format.Name} data cannot be decoded ({exception.Message}).", exception);
        }

        try
        {
            // cv2.imread applies EXIF orientation by default; ImageSharp only does when asked. Skip the
            // processing pipeline for the common case of no or identity orientation.
            if (!ExifOrientation.IsIdentity(OrientationOf(image)))
            {
                image.Mutate(operations => operations.AutoOrient());
            }

            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The EXIF orientation tag's value (1 to 8), or 1 without one.</summary>
    private static int OrientationOf(Image<Rgb24> image) =>
        image.Metadata.ExifProfile?.GetValue(ExifTag.Orientation) is { } orientation ? orientation.Value : 1;

    // Decoders fed hostile bytes fail with many exception types (ImageFormatException, EndOfStream, index
    // errors); every one of them means this image is unusable, which the caller records per image.
    private static bool IsDecoderFailure(Exception exception) =>
        exception is not (OperationCanceledException or OutOfMemoryException or ImageDecodeException);

    private static ImageDecodeException Corrupt(string damage, Exception? inner) =>
        new(ImageDecodeErrorKind.Corrupt, $"corrupt: {damage}.", inner);

    private static ImageDecodeException UnknownFormat(long length, Exception? inner) =>
        new(ImageDecodeErrorKind.UnknownFormat, $"unknown format: the {length} bytes are not an image format the decoder recognises (JPEG, PNG, GIF, BMP, TGA, TIFF, WebP, PBM).", inner);

    private void ResizeAndNormalise(Image<Rgb24> image, CropRectangle crop, Span<float> destinationChw)
    {
        if (image.DangerousTryGetSinglePixelMemory(out var pixels))
        {
            ResizeAndNormalise(MemoryMarshal.AsBytes(pixels.Span), image.Width * Channels, crop, destinationChw);
            return;
        }

        // Fallback when the allocator split the image into several buffers: copy just the crop, then resize.
        var rowBytes = crop.Width * Channels;
        var cropped = ArrayPool<byte>.Shared.Rent(rowBytes * crop.Height);
        try
        {
            image.ProcessPixelRows(accessor =>
            {
                for (var row = 0; row < crop.Height; row++)
                {
                    var source = MemoryMarshal.AsBytes(accessor.GetRowSpan(crop.Top + row).Slice(crop.Left, crop.Width));
                    source.CopyTo(cropped.AsSpan(row * rowBytes, rowBytes));
                }
            });

            ResizeAndNormalise(cropped, rowBytes, crop with { Top = 0, Left = 0 }, destinationChw);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cropped);
        }
    }

    /// <summary>Crop of interleaved RGB rows → R × R bicubic → normalised planes.</summary>
    private void ResizeAndNormalise(ReadOnlySpan<byte> interleavedRgb, int stride, CropRectangle crop, Span<float> destinationChw)
    {
        var resizer = new BicubicResizer(crop.Width, crop.Height, Spec.Resolution);
        var resized = ArrayPool<byte>.Shared.Rent(resizer.OutputLength);
        try
        {
            resizer.Resize(interleavedRgb, stride, crop.Top, crop.Left, resized);
            NormaliseUnchecked(resized.AsSpan(0, resizer.OutputLength), destinationChw);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(resized);
        }
    }

    /// <summary>The tensor fill: R × R interleaved RGB bytes → (v − mean) / std, written as R, G, B planes.</summary>
    public void Normalise(ReadOnlySpan<byte> interleavedRgb, Span<float> destinationChw)
    {
        var plane = Spec.Resolution * Spec.Resolution;
        if (interleavedRgb.Length < plane * Channels || destinationChw.Length < plane * Channels)
        {
            throw new ArgumentException($"Normalising needs {plane * Channels} bytes and floats; got {interleavedRgb.Length} and {destinationChw.Length}.");
        }

        NormaliseUnchecked(interleavedRgb, destinationChw);
    }

    private void NormaliseUnchecked(ReadOnlySpan<byte> interleavedRgb, Span<float> destinationChw)
    {
        var plane = Spec.Resolution * Spec.Resolution;
        var red = destinationChw[..plane];
        var green = destinationChw.Slice(plane, plane);
        var blue = destinationChw.Slice(2 * plane, plane);
        ReadOnlySpan<float> redTable = _normalisation.AsSpan(0, 256), greenTable = _normalisation.AsSpan(256, 256), blueTable = _normalisation.AsSpan(512, 256);
        for (int i = 0, j = 0; i < plane; i++, j += Channels)
        {
            red[i] = redTable[interleavedRgb[j]];
            green[i] = greenTable[interleavedRgb[j + 1]];
            blue[i] = blueTable[interleavedRgb[j + 2]];
        }
    }
}
