namespace EfficientNet.Batch.Inference;

/// <summary>
/// Walks a GIF's blocks to its trailer (0x3B). ImageSharp 2.1 decodes a GIF cut inside its image data, filling the rest
/// with the background, so a GIF must end with its trailer to count as whole.
/// </summary>
internal static class GifIntegrity
{
    private const int HeaderLength = 6 + 7; // signature and version, logical screen descriptor
    private const byte ExtensionIntroducer = 0x21;
    private const byte ImageSeparator = 0x2C;
    private const byte Trailer = 0x3B;
    private const byte ColourTableFlag = 0x80;

    /// <summary>What is wrong with <paramref name="gif"/>'s block structure, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> gif)
    {
        if (gif.Length < HeaderLength)
        {
            return $"truncated GIF ({gif.Length} bytes end inside the header)";
        }

        var position = HeaderLength + ColourTableLength(gif[10]);
        while (position < gif.Length)
        {
            var block = gif[position];
            switch (block)
            {
                case Trailer:
                    return null;
                case ExtensionIntroducer:
                    position = SkipSubBlocks(gif, position + 2);
                    break;
                case ImageSeparator:
                    // Image descriptor (position, size, flags), optional local colour table, LZW minimum code size.
                    const int descriptorLength = 10;
                    if (position + descriptorLength > gif.Length)
                    {
                        return Truncated(gif.Length);
                    }

                    position = SkipSubBlocks(gif, position + descriptorLength + ColourTableLength(gif[position + 9]) + 1);
                    break;
                default:
                    return $"broken GIF block structure (byte {position} should start a block: 0x21, 0x2C or the trailer 0x3B, but is 0x{block:X2})";
            }
        }

        return Truncated(gif.Length);
    }

    private static string Truncated(int length) => $"truncated GIF ({length} bytes end before the trailer)";

    private static int ColourTableLength(byte flags) => (flags & ColourTableFlag) == 0 ? 0 : 3 << ((flags & 0x07) + 1);

    // Data sub-blocks: a size byte, that many bytes, until a size of zero. Returns the position after the terminator
    // (past the end when the file ends inside them).
    private static int SkipSubBlocks(ReadOnlySpan<byte> gif, int position)
    {
        while (position < gif.Length)
        {
            var size = gif[position];
            position += 1 + size;
            if (size == 0)
            {
                return position;
            }
        }

        return int.MaxValue;
    }
}
