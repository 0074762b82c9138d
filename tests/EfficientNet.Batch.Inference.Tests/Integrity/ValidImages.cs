using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Tiff.Constants;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Inference.Tests.Integrity;

/// <summary>A valid encoded image: the file's name (its extension says its format) and bytes.</summary>
internal sealed record EncodedSample(string Name, byte[] Bytes)
{
    public string Extension => Path.GetExtension(Name);
}

/// <summary>
/// One small valid file per supported format and common variant, made by ImageSharp's own encoders (the progressive
/// JPEG by <see cref="ProgressiveJpeg"/>): the material the broken-file corpus damages.
/// </summary>
internal static class ValidImages
{
    public const int Width = 64;
    public const int Height = 48;

    private static readonly Lazy<IReadOnlyDictionary<string, EncodedSample>> Samples = new(Create);

    /// <summary>ImageSharp's encoders of the samples, by key, with the extension of their files.</summary>
    public static IReadOnlyList<(string Key, string Extension, IImageEncoder Encoder)> Encoders { get; } =
    [
        ("jpeg", ".jpg", new JpegEncoder { Quality = 90 }),
        ("png", ".png", new PngEncoder { ColorType = PngColorType.RgbWithAlpha }),
        ("png-16bit", ".png", new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 }),
        ("gif-animated", ".gif", new GifEncoder()),
        ("bmp", ".bmp", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }),
        ("tiff", ".tiff", new TiffEncoder { BitsPerPixel = TiffBitsPerPixel.Bit24, Compression = TiffCompression.None }),
        ("tiff-deflate", ".tif", new TiffEncoder { BitsPerPixel = TiffBitsPerPixel.Bit24, Compression = TiffCompression.Deflate }),
        ("webp-lossy", ".webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossy }),
        ("webp-lossless", ".webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }),
        ("tga", ".tga", new TgaEncoder { BitsPerPixel = TgaBitsPerPixel.Pixel24, Compression = TgaCompression.None }),
        ("tga-rle", ".tga", new TgaEncoder { BitsPerPixel = TgaBitsPerPixel.Pixel32, Compression = TgaCompression.RunLength }),
        ("ppm", ".ppm", new PbmEncoder { Encoding = PbmEncoding.Binary, ColorType = PbmColorType.Rgb }),
        ("pgm-plain", ".pgm", new PbmEncoder { Encoding = PbmEncoding.Plain, ColorType = PbmColorType.Grayscale }),
    ];

    /// <summary>The samples by key, e.g. "png-16bit", "webp-lossless".</summary>
    public static IReadOnlyDictionary<string, EncodedSample> All => Samples.Value;

    /// <summary>An opaque RGB pattern: horizontal red ramp, vertical green ramp, blue quadrant, so lossy codecs have detail.</summary>
    public static Image<Rgba32> Pattern(int width = Width, int height = Height)
    {
        var image = new Image<Rgba32>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgba32((byte)(x * 255 / Math.Max(1, width - 1)), (byte)(y * 255 / Math.Max(1, height - 1)), (byte)(x < width / 2 == y < height / 2 ? 200 : 30));
                }
            }
        });
        return image;
    }

    public static byte[] Encode(Image image, IImageEncoder encoder)
    {
        using var output = new MemoryStream();
        image.Save(output, encoder);
        return output.ToArray();
    }

    private static Dictionary<string, EncodedSample> Create()
    {
        using var pattern = Pattern();
        using var animated = AnimatedGif();
        var levels = new byte[Height / 8, Width / 8];
        for (var row = 0; row < levels.GetLength(0); row++)
        {
            for (var column = 0; column < levels.GetLength(1); column++)
            {
                levels[row, column] = (byte)(40 + (30 * row) + (10 * column));
            }
        }

        var samples = Encoders
            .Select(e => (e.Key, e.Extension, Bytes: Encode(e.Key == "gif-animated" ? animated : pattern, e.Encoder)))
            .Append((Key: "jpeg-progressive", Extension: ".jpg", Bytes: ProgressiveJpeg.Encode(levels)));
        return samples.ToDictionary(s => s.Key, s => new EncodedSample($"{s.Key}{s.Extension}", s.Bytes), StringComparer.Ordinal);
    }

    /// <summary>Two frames: the first the <see cref="Pattern"/>, the second solid magenta.</summary>
    public static Image<Rgba32> AnimatedGif()
    {
        var image = Pattern();
        using var second = new Image<Rgba32>(Width, Height, new Rgba32(255, 0, 255));
        image.Frames.AddFrame(second.Frames.RootFrame);
        return image;
    }
}
