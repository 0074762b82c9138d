using System.Buffers.Binary;

namespace EfficientNet.Batch.Inference.Tests.Integrity;

/// <summary>
/// Writes a minimal progressive (SOF2) grayscale JPEG: ImageSharp 2.1's encoder writes baseline only, and the shared
/// photos hold no progressive file. One DC scan and one AC scan (spectral selection, no successive approximation);
/// every 8 × 8 block is flat, so the AC scan is one end-of-band per block and each block decodes to its exact level.
/// </summary>
internal static class ProgressiveJpeg
{
    /// <summary>Encodes <paramref name="levels"/> (one grey level per 8 × 8 block, rows of blocks) as a progressive JPEG.</summary>
    public static byte[] Encode(byte[,] levels)
    {
        var blockRows = levels.GetLength(0);
        var blockColumns = levels.GetLength(1);
        using var output = new MemoryStream();
        Marker(output, 0xD8);

        // Quantisation table 0: all ones, so a DC coefficient is exactly 8 · (level − 128).
        Segment(output, 0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);

        // Frame: 8-bit precision, height, width, one component (id 1, 1 × 1 sampling, table 0).
        var frame = new byte[9];
        frame[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), (ushort)(blockRows * 8));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(3), (ushort)(blockColumns * 8));
        frame[5] = 1;
        frame[6] = 1;
        frame[7] = 0x11;
        frame[8] = 0;
        Segment(output, 0xC2, frame);

        // DC table 0: the twelve magnitude categories 0..11, all four bits long, so category c's code is c itself.
        var dcCounts = new byte[16];
        dcCounts[3] = 12;
        Segment(output, 0xC4, [0x00, .. dcCounts, .. Enumerable.Range(0, 12).Select(i => (byte)i)]);

        // AC table 0: one symbol, EOB0 (an end-of-band run of one block), coded "0".
        var acCounts = new byte[16];
        acCounts[0] = 1;
        Segment(output, 0xC4, [0x10, .. acCounts, 0x00]);

        // Scan 1: DC coefficients only (Ss = Se = 0, Ah = Al = 0).
        Segment(output, 0xDA, [1, 1, 0x00, 0, 0, 0]);
        var dc = new EntropyWriter(output);
        var previous = 0;
        foreach (var level in levels)
        {
            var coefficient = 8 * (level - 128);
            var difference = coefficient - previous;
            previous = coefficient;
            var category = difference == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(difference));
            dc.Write(category, 4);
            if (category > 0)
            {
                dc.Write(difference > 0 ? difference : difference + (1 << category) - 1, category);
            }
        }

        dc.Flush();

        // Scan 2: AC coefficients 1..63, all zero: one EOB0 per block.
        Segment(output, 0xDA, [1, 1, 0x00, 1, 63, 0]);
        var ac = new EntropyWriter(output);
        for (var block = 0; block < levels.Length; block++)
        {
            ac.Write(0, 1);
        }

        ac.Flush();
        Marker(output, 0xD9);
        return output.ToArray();
    }

    private static void Marker(Stream output, byte marker)
    {
        output.WriteByte(0xFF);
        output.WriteByte(marker);
    }

    private static void Segment(Stream output, byte marker, byte[] payload)
    {
        Marker(output, marker);
        output.WriteByte((byte)((payload.Length + 2) >> 8));
        output.WriteByte((byte)(payload.Length + 2));
        output.Write(payload);
    }

    /// <summary>Entropy-coded bits, most significant first, with 0xFF bytes stuffed and the last byte padded with ones.</summary>
    private sealed class EntropyWriter(Stream output)
    {
        private int _bits;
        private int _count;

        public void Write(int value, int length)
        {
            for (var bit = length - 1; bit >= 0; bit--)
            {
                _bits = (_bits << 1) | ((value >> bit) & 1);
                if (++_count == 8)
                {
                    Emit();
                }
            }
        }

        public void Flush()
        {
            while (_count != 0)
            {
                Write(1, 1);
            }
        }

        private void Emit()
        {
            output.WriteByte((byte)_bits);
            if (_bits == 0xFF)
            {
                output.WriteByte(0x00);
            }

            _bits = 0;
            _count = 0;
        }
    }
}
