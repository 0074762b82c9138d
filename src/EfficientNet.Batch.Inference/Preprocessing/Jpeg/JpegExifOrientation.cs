using System.Buffers.Binary;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// The EXIF orientation of a JPEG, read from its first <c>APP1 "Exif"</c> segment without decoding anything else (IFD0,
/// tag 0x0112): what the libjpeg-turbo path needs from the file besides its pixels, at a fraction of a full header read.
/// Anything missing or malformed reads as 1 (stored upright), as OpenCV's reader treats it.
/// </summary>
internal static class JpegExifOrientation
{
    private const int OrientationTag = 0x0112;
    private const int ShortType = 3;

    public static int Read(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
        {
            return 1;
        }

        var position = 2;
        while (position + 4 <= jpeg.Length)
        {
            if (jpeg[position] != 0xFF)
            {
                return 1;
            }

            var marker = jpeg[position + 1];
            if (marker == 0xFF)
            {
                position++; // fill byte
                continue;
            }

            // Start of scan or end of image: the metadata segments are behind us.
            if (marker is 0xDA or 0xD9)
            {
                return 1;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(position + 2)..]);
            if (length < 2 || position + 2 + length > jpeg.Length)
            {
                return 1;
            }

            var payload = jpeg.Slice(position + 4, length - 2);
            if (marker == 0xE1 && payload.StartsWith("Exif\0\0"u8))
            {
                return FromTiff(payload[6..]);
            }

            position += 2 + length;
        }

        return 1;
    }

    private static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 1;
        }

        bool little;
        if (tiff.StartsWith("II"u8))
        {
            little = true;
        }
        else if (tiff.StartsWith("MM"u8))
        {
            little = false;
        }
        else
        {
            return 1;
        }

        var ifd = U32(tiff, 4, little);
        if (U16(tiff, 2, little) != 42 || ifd < 8 || ifd > tiff.Length - 2)
        {
            return 1;
        }

        var entries = U16(tiff, (int)ifd, little);
        for (var i = 0; i < entries; i++)
        {
            var entry = (int)ifd + 2 + (i * 12);
            if (entry + 12 > tiff.Length)
            {
                return 1;
            }

            if (U16(tiff, entry, little) == OrientationTag)
            {
                var value = U16(tiff, entry + 8, little);
                return U16(tiff, entry + 2, little) == ShortType && value is >= 1 and <= 8 ? value : 1;
            }
        }

        return 1;
    }

    private static ushort U16(ReadOnlySpan<byte> tiff, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(tiff[at..]) : BinaryPrimitives.ReadUInt16BigEndian(tiff[at..]);

    private static uint U32(ReadOnlySpan<byte> tiff, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(tiff[at..]) : BinaryPrimitives.ReadUInt32BigEndian(tiff[at..]);
}
