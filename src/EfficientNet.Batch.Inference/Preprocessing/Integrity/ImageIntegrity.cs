using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Structural checks of an encoded image, one class per format, for the damage ImageSharp 2.1's tolerant decoders
/// accept: a file cut short decodes "successfully" with black or grey rows, which the model then labels with
/// confidence. Each check reads only headers, lengths and the tail of bytes already in memory (plus a CRC-32 of a
/// PNG's chunks), never pixels, so it costs a small fraction of a decode.
/// </summary>
internal static class ImageIntegrity
{
    /// <summary>What is wrong with <paramref name="encoded"/>, a file of <paramref name="format"/>, or null when its
    /// structure is whole (the decoder may still find damage inside compressed data).</summary>
    public static string? FindDamage(IImageFormat format, ReadOnlySpan<byte> encoded) => format switch
    {
        JpegFormat => JpegIntegrity.FindDamage(encoded),
        PngFormat => PngIntegrity.FindDamage(encoded),
        GifFormat => GifIntegrity.FindDamage(encoded),
        BmpFormat => BmpIntegrity.FindDamage(encoded),
        TiffFormat => TiffIntegrity.FindDamage(encoded),
        WebpFormat => WebpIntegrity.FindDamage(encoded),
        TgaFormat => TgaIntegrity.FindDamage(encoded),
        PbmFormat => NetpbmIntegrity.FindDamage(encoded),
        _ => null,
    };

    /// <summary>
    /// Why <paramref name="fileName"/>'s extension contradicts its <paramref name="content"/>, or null. Only an extension
    /// of a known image format is compared: a name without one, or with another (".dat", ".bin"), leaves the content to
    /// decide.
    /// </summary>
    public static string? FindExtensionMismatch(Configuration configuration, string? fileName, IImageFormat content)
    {
        var extension = Path.GetExtension(fileName.AsSpan());
        if (extension.Length < 2)
        {
            return null;
        }

        var named = configuration.ImageFormatsManager.FindFormatByFileExtension(extension[1..].ToString());
        return named is null || named.Equals(content)
            ? null
            : $"extension mismatch: '{fileName}' holds a {content.Name} image, but its extension {extension} is {named.Name}'s";
    }
}
