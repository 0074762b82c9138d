using System.Buffers.Binary;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Checks that a TGA holds every pixel its header declares: the raw pixel array, or run-length packets that add up
/// to width × height. ImageSharp 2.1 decodes a TGA cut anywhere after its header, leaving the rest black.
/// </summary>
internal static class TgaIntegrity
{
    private const int HeaderLength = 18;
    private const byte RunLengthPacket = 0x80;

    /// <summary>What is wrong with <paramref name="tga"/>'s pixel data, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> tga)
    {
        if (tga.Length < HeaderLength)
        {
            return $"truncated TGA ({tga.Length} bytes end inside the header)";
        }

        var imageType = tga[2];
        var colourMapLength = tga[1] == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(tga[5..]) * ((tga[7] + 7) / 8) : 0;
        long width = BinaryPrimitives.ReadUInt16LittleEndian(tga[12..]);
        long height = BinaryPrimitives.ReadUInt16LittleEndian(tga[14..]);
        var bytesPerPixel = (tga[16] + 7) / 8;
        var start = HeaderLength + tga[0] + colourMapLength;
        var pixels = width * height;
        if (bytesPerPixel == 0 || pixels == 0)
        {
            return null; // the dimension check and the decoder report these
        }

        switch (imageType)
        {
            case 1 or 2 or 3: // colour-mapped, true-colour, grey; uncompressed
                var needed = pixels * bytesPerPixel;
                return start + needed > tga.Length
                    ? $"truncated TGA ({width}x{height} pixels need {needed} bytes from byte {start}; the file ends at byte {tga.Length})"
                    : null;
            case 9 or 10 or 11: // the same, run-length encoded
                return RunLengthDamage(tga, start, pixels, bytesPerPixel);
            default:
                return null;
        }
    }

    // Each packet: a header byte (high bit: run of one repeated pixel, else raw pixels; low 7 bits: count − 1).
    private static string? RunLengthDamage(ReadOnlySpan<byte> tga, int position, long pixels, int bytesPerPixel)
    {
        long decoded = 0;
        while (decoded < pixels)
        {
            if (position >= tga.Length)
            {
                return $"truncated TGA (the run-length data ends after {decoded} of {pixels} pixels)";
            }

            var header = tga[position];
            var count = (header & 0x7F) + 1;
            position += 1 + ((header & RunLengthPacket) != 0 ? bytesPerPixel : count * bytesPerPixel);
            if (position > tga.Length)
            {
                return $"truncated TGA (the run-length data ends inside a packet after {decoded} of {pixels} pixels)";
            }

            decoded += count;
        }

        return null;
    }
}
