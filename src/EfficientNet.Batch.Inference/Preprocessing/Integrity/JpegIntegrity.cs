using System.Buffers.Binary;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Finds JPEG files cut short or with broken segment lengths. ImageSharp 2.1 decodes a truncated JPEG "successfully"
/// and fills the missing rows with grey, which would silently become a confident wrong label.
/// </summary>
internal static class JpegIntegrity
{
    private const byte MarkerPrefix = 0xFF;
    private const byte StartOfImage = 0xD8;
    private const byte EndOfImage = 0xD9;
    private const byte StartOfScan = 0xDA;

    /// <summary>
    /// What is wrong with <paramref name="jpeg"/>'s structure, or null. The marker segments are walked from SOI to the
    /// first scan by their lengths (so an EOI inside an EXIF thumbnail does not count); after that, FF D9 can only be the
    /// real EOI, because entropy-coded data stuffs every FF as FF 00. Trailing bytes after EOI, which some cameras
    /// append, are accepted, as libjpeg accepts them.
    /// </summary>
    public static string? FindDamage(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != MarkerPrefix || jpeg[1] != StartOfImage)
        {
            return null; // not a JPEG stream this check understands; the decoder decides
        }

        var position = 2;
        while (true)
        {
            if (position >= jpeg.Length)
            {
                return $"truncated JPEG ({jpeg.Length} bytes end before the image data)";
            }

            if (jpeg[position] != MarkerPrefix)
            {
                return $"broken JPEG segment length (byte {position} should start a marker, FF, but is {jpeg[position]:X2})";
            }

            // Markers may be preceded by any number of 0xFF fill bytes.
            while (position < jpeg.Length && jpeg[position] == MarkerPrefix)
            {
                position++;
            }

            if (position >= jpeg.Length)
            {
                return $"truncated JPEG ({jpeg.Length} bytes end inside a marker)";
            }

            var marker = jpeg[position++];
            if (marker == EndOfImage)
            {
                return null; // no scan at all: the decoder reports it
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue; // standalone markers carry no length
            }

            if (position + 2 > jpeg.Length)
            {
                return $"truncated JPEG ({jpeg.Length} bytes end inside the length of segment FF{marker:X2})";
            }

            var segmentLength = BinaryPrimitives.ReadUInt16BigEndian(jpeg[position..]);
            if (segmentLength < 2 || position + segmentLength > jpeg.Length)
            {
                return $"truncated JPEG or broken segment length (segment FF{marker:X2} at byte {position - 2} declares {segmentLength} bytes; the file ends at byte {jpeg.Length})";
            }

            if (marker == StartOfScan)
            {
                return EndsWithEndOfImage(jpeg, position)
                    ? null
                    : $"truncated JPEG ({jpeg.Length} bytes end before the end-of-image marker)";
            }

            position += segmentLength;
        }
    }

    // The last two bytes in the common case; a search of the scan data only for files with bytes after EOI.
    private static bool EndsWithEndOfImage(ReadOnlySpan<byte> jpeg, int scanStart) =>
        jpeg[^2..].SequenceEqual([MarkerPrefix, EndOfImage]) || jpeg[scanStart..].IndexOf([MarkerPrefix, EndOfImage]) >= 0;
}
