using System.Buffers.Binary;
using System.Text;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Checks a WebP's RIFF container: the file holds the size its RIFF header declares, and every chunk fits inside it.
/// ImageSharp 2.1 decodes a WebP cut inside its bitstream, filling the rest with whatever the decoder had.
/// </summary>
internal static class WebpIntegrity
{
    private const int RiffHeaderLength = 12; // "RIFF", size, "WEBP"
    private const int ChunkHeaderLength = 8;

    /// <summary>What is wrong with <paramref name="webp"/>'s container, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> webp)
    {
        if (webp.Length < RiffHeaderLength + ChunkHeaderLength)
        {
            return $"truncated WebP ({webp.Length} bytes end inside the RIFF header)";
        }

        // The RIFF size counts the bytes after the size field; bytes after it are ignored, as libwebp ignores them.
        var end = 8 + (long)BinaryPrimitives.ReadUInt32LittleEndian(webp[4..]);
        if (end > webp.Length)
        {
            return $"truncated WebP (the RIFF header declares {end} bytes; the file has {webp.Length})";
        }

        long position = RiffHeaderLength;
        while (position + ChunkHeaderLength <= end)
        {
            var size = BinaryPrimitives.ReadUInt32LittleEndian(webp[(int)(position + 4)..]);
            var next = position + ChunkHeaderLength + size + (size & 1); // chunks are padded to an even size
            if (next > end)
            {
                var type = Encoding.ASCII.GetString(webp.Slice((int)position, 4));
                return $"truncated WebP or broken chunk size (chunk '{type}' at byte {position} declares {size} bytes, past the end of the RIFF data at byte {end})";
            }

            position = next;
        }

        return position == end ? null : $"broken WebP chunk sizes ({end - position} stray bytes at the end of the RIFF data)";
    }
}
