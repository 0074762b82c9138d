using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Walks a PNG's chunks: each must fit in the file and match its CRC, and the walk must reach IEND. ImageSharp 2.1 checks
/// the CRC of critical chunks only, ignores a damaged ancillary chunk, and decodes a file cut after its last IDAT as if
/// it were whole; libpng, the reference, rejects all of these.
/// </summary>
internal static class PngIntegrity
{
    private const int SignatureLength = 8;
    private const int ChunkOverhead = 12; // length, type, CRC
    private static ReadOnlySpan<byte> EndChunk => "IEND"u8;

    /// <summary>What is wrong with <paramref name="png"/>'s chunk structure, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> png)
    {
        var position = SignatureLength;
        while (position + ChunkOverhead <= png.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[position..]);
            var type = png.Slice(position + 4, 4);
            if (length > int.MaxValue || position + ChunkOverhead + (long)length > png.Length)
            {
                return $"truncated PNG or broken chunk length (chunk {Name(type)} at byte {position} declares {length} bytes of data; the file ends at byte {png.Length})";
            }

            var end = position + 8 + (int)length;
            var stored = BinaryPrimitives.ReadUInt32BigEndian(png[end..]);
            var computed = Crc32.HashToUInt32(png[(position + 4)..end]);
            if (stored != computed)
            {
                return $"CRC mismatch in PNG chunk {Name(type)} at byte {position} (stored {stored:X8}, computed {computed:X8})";
            }

            if (type.SequenceEqual(EndChunk))
            {
                return null; // bytes after IEND are ignored, as libpng ignores them
            }

            position = end + 4;
        }

        return $"truncated PNG ({png.Length} bytes end before the IEND chunk)";
    }

    // Chunk types are four ASCII letters; a damaged one is shown in hex rather than as control characters.
    private static string Name(ReadOnlySpan<byte> type)
    {
        foreach (var letter in type)
        {
            if (!char.IsAsciiLetter((char)letter))
            {
                return $"0x{Convert.ToHexString(type)}";
            }
        }

        return Encoding.ASCII.GetString(type);
    }
}
