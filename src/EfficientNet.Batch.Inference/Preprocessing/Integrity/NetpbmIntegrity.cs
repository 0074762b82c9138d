namespace EfficientNet.Batch.Inference;

/// <summary>
/// Checks that a Netpbm file (PBM, PGM, PPM: P1…P6) holds every sample its header declares. ImageSharp 2.1 decodes a
/// Netpbm file cut anywhere after its header, leaving the missing samples black.
/// </summary>
internal static class NetpbmIntegrity
{
    /// <summary>What is wrong with <paramref name="netpbm"/>'s raster, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> netpbm)
    {
        if (netpbm.Length < 3 || netpbm[0] != 'P' || netpbm[1] is < (byte)'1' or > (byte)'6')
        {
            return null;
        }

        var kind = netpbm[1] - '0';
        var name = (kind % 3) switch { 1 => "PBM", 2 => "PGM", _ => "PPM" };
        var position = 2;
        var hasMaximum = kind is not (1 or 4);
        long maximum = 1;
        if (!TryReadNumber(netpbm, ref position, out var width) || !TryReadNumber(netpbm, ref position, out var height)
            || (hasMaximum && !TryReadNumber(netpbm, ref position, out maximum)))
        {
            return $"truncated {name} ({netpbm.Length} bytes end inside the header)";
        }

        var channels = kind is 3 or 6 ? 3 : 1;
        var samples = (Int128)width * height * channels; // 128-bit: forged dimensions must not overflow
        if (samples == 0)
        {
            return null; // the dimension check reports it
        }

        if (kind >= 4)
        {
            // Binary: exactly one whitespace byte after the header, then the raster.
            var bytesPerSample = hasMaximum && maximum > 255 ? 2 : 1;
            var needed = kind == 4 ? (Int128)((width + 7) / 8) * height : samples * bytesPerSample;
            var start = position + 1;
            return start + needed > netpbm.Length
                ? $"truncated {name} ({width}x{height} pixels need {needed} bytes of raster from byte {start}; the file ends at byte {netpbm.Length})"
                : null;
        }

        // Plain (ASCII): count the samples. A P1 sample is one digit, whitespace optional.
        var found = kind == 1 ? CountBits(netpbm[position..], samples) : CountNumbers(netpbm[position..], samples);
        return found < samples ? $"truncated {name} (the raster holds {found} of the {samples} samples {width}x{height} pixels need)" : null;
    }

    // A decimal number after whitespace and comments ("#" to the end of the line).
    private static bool TryReadNumber(ReadOnlySpan<byte> text, ref int position, out long number)
    {
        number = 0;
        while (position < text.Length && (IsWhitespace(text[position]) || text[position] == '#'))
        {
            if (text[position] == '#')
            {
                while (position < text.Length && text[position] is not ((byte)'\n' or (byte)'\r'))
                {
                    position++;
                }
            }
            else
            {
                position++;
            }
        }

        var start = position;
        while (position < text.Length && char.IsAsciiDigit((char)text[position]) && number < int.MaxValue)
        {
            number = (number * 10) + (text[position++] - '0');
        }

        return position > start;
    }

    private static long CountNumbers(ReadOnlySpan<byte> raster, Int128 wanted)
    {
        long count = 0;
        var inNumber = false;
        foreach (var b in raster)
        {
            var digit = char.IsAsciiDigit((char)b);
            if (digit && !inNumber && ++count == wanted)
            {
                // The last sample's digits may be cut; that cannot be told from a shorter number.
                return count;
            }

            inNumber = digit;
        }

        return count;
    }

    private static long CountBits(ReadOnlySpan<byte> raster, Int128 wanted)
    {
        long count = 0;
        foreach (var b in raster)
        {
            if ((b == '0' || b == '1') && ++count == wanted)
            {
                return count;
            }
        }

        return count;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;
}
