namespace EfficientNet.Batch.Inference;

/// <summary>
/// Detects JPEG files cut short. ImageSharp 2.1 decodes a truncated JPEG "successfully" and fills the
/// missing rows with grey, which would silently become a confident wrong label.
/// </summary>
internal static class JpegTruncation
{
    private const byte MarkerPrefix = 0xFF;
    private const byte StartOfImage = 0xD8;
    private const byte EndOfImage = 0xD9;
    private const byte StartOfScan = 0xDA;

    /// <summary>
    /// True when the file ends before its end-of-image marker. The marker segments are walked from SOI to the
    /// first scan by their lengths (so an EOI inside an EXIF thumbnail does not count); after that, FF D9 can
    /// only be the real EOI, because entropy-coded data stuffs every FF as FF 00. Trailing bytes after EOI,
    /// which some cameras append, are accepted, as libjpeg accepts them.
    /// </summary>
    public static bool IsTruncated(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != MarkerPrefix || jpeg[1] != StartOfImage)
        {
            return false; // not a JPEG stream this check understands; the decoder decides
        }

        var position = 2;
        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            if (position >= jpeg.Length || jpeg[position] != MarkerPrefix)
            {
                return position >= jpeg.Length;
            }

            while (position < jpeg.Length && jpeg[position] == MarkerPrefix)
            {
                position++;
            }

            if (position >= jpeg.Length)
            {
                return true;
            }

            var marker = jpeg[position++];
            if (marker == EndOfImage)
            {
                return false;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue; // standalone markers carry no length
            }

            if (position + 2 > jpeg.Length)
            {
                return true;
            }

            var segmentLength = (jpeg[position] << 8) | jpeg[position + 1];
            if (marker == StartOfScan)
            {
                return jpeg[position..].IndexOf([MarkerPrefix, EndOfImage]) < 0;
            }

            position += segmentLength;
        }
    }
}
