using System.Buffers.Binary;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Checks that a BMP's pixel array lies inside the file. ImageSharp 2.1 decodes a BMP cut anywhere after its headers,
/// leaving the missing rows black.
/// </summary>
internal static class BmpIntegrity
{
    private const int FileHeaderLength = 14;
    private const int CoreHeaderLength = 12; // OS/2 1.x: 16-bit dimensions

    private const uint Rgb = 0;
    private const uint Rle8 = 1;
    private const uint Rle4 = 2;
    private const uint BitFields = 3;
    private const uint AlphaBitFields = 6;

    /// <summary>What is wrong with <paramref name="bmp"/>'s layout, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> bmp)
    {
        if (bmp.Length < FileHeaderLength + 4)
        {
            return $"truncated BMP ({bmp.Length} bytes end inside the headers)";
        }

        var pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(bmp[10..]);
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]);
        if (FileHeaderLength + (long)headerLength > bmp.Length)
        {
            return $"truncated BMP ({bmp.Length} bytes end inside the {headerLength}-byte info header)";
        }

        if (pixelOffset >= bmp.Length)
        {
            return $"truncated BMP or broken pixel data offset (the pixel data should start at byte {pixelOffset}; the file ends at byte {bmp.Length})";
        }

        long width, height;
        int bitsPerPixel;
        uint compression, imageSize;
        if (headerLength == CoreHeaderLength)
        {
            (width, height, bitsPerPixel, compression, imageSize) =
                (BinaryPrimitives.ReadUInt16LittleEndian(bmp[18..]), BinaryPrimitives.ReadUInt16LittleEndian(bmp[20..]), BinaryPrimitives.ReadUInt16LittleEndian(bmp[24..]), Rgb, 0);
        }
        else if (headerLength >= 40)
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(bmp[18..]);
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bmp[22..])); // negative: stored top-down
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(bmp[28..]);
            compression = BinaryPrimitives.ReadUInt32LittleEndian(bmp[30..]);
            imageSize = BinaryPrimitives.ReadUInt32LittleEndian(bmp[34..]);
        }
        else
        {
            return null; // an uncommon header: the decoder decides
        }

        Int128 needed; // 128-bit: forged dimensions must not overflow into a small number
        if (compression is Rgb or BitFields or AlphaBitFields && bitsPerPixel is > 0 and <= 64 && width > 0 && height > 0)
        {
            // Rows are padded to four bytes; the padding of the last row is not required (some writers omit it).
            var rowLength = ((width * bitsPerPixel) + 31) / 32 * 4;
            needed = ((Int128)rowLength * (height - 1)) + (((width * bitsPerPixel) + 7) / 8);
        }
        else if (compression is Rle8 or Rle4)
        {
            needed = imageSize;
        }
        else
        {
            return null;
        }

        return pixelOffset + needed > bmp.Length
            ? $"truncated BMP ({width}x{height} pixels need {needed} bytes of pixel data from byte {pixelOffset}; the file ends at byte {bmp.Length})"
            : null;
    }
}
