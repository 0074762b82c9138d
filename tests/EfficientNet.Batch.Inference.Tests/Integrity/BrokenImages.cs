using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;

namespace EfficientNet.Batch.Inference.Tests.Integrity;

/// <summary>A damaged file and what the preprocessor must answer: an error of <paramref name="Kind"/> whose reason
/// contains <paramref name="Reason"/>.</summary>
internal sealed record BrokenImage(string Name, byte[] Bytes, string Kind, string Reason);

/// <summary>
/// The broken-file corpus: every <see cref="ValidImages"/> sample damaged in every way that applies to its format,
/// as a new user's files get damaged: cut short (interrupted copies and downloads), checksum and length bytes flipped
/// (bit rot), dimensions forged (hostile files), content under another format's extension (renamed files).
/// </summary>
internal static class BrokenImages
{
    // Far above the default pixel limit (100 Mpixel), within what every header can store: TGA's 16 bits are read as
    // signed, WebP stores 14 bits.
    private const int Huge = 30_000;
    private const int HugeWebp = 16_383;

    /// <summary>Names of the damages; <see cref="Apply"/> gives null where one does not apply to a sample.</summary>
    public static readonly string[] Damages =
    [
        "cut-at-10%", "cut-at-50%", "cut-at-90%", "last-byte-cut", "zero-width", "huge-dimensions", "taller-than-its-data",
        "other-format-extension", "ihdr-crc-flipped", "idat-crc-flipped", "ancillary-crc-flipped", "iend-crc-flipped",
        "idat-length-flipped", "riff-size-flipped", "chunk-size-flipped", "segment-length-flipped", "pixel-offset-flipped",
        "strip-byte-count-flipped", "id-length-flipped",
    ];

    /// <summary>Every (sample, damage) pair that applies, for a theory.</summary>
    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var sample in ValidImages.All.Keys.Order(StringComparer.Ordinal))
        {
            foreach (var damage in Damages)
            {
                if (Apply(sample, damage) is not null)
                {
                    cases.Add(sample, damage);
                }
            }
        }

        return cases;
    }

    public static BrokenImage? Apply(string sampleKey, string damage)
    {
        var sample = ValidImages.All[sampleKey];
        var bytes = sample.Bytes;
        var format = sampleKey.Split('-')[0];
        var name = sample.Name;
        return damage switch
        {
            "cut-at-10%" => Cut(bytes.Length / 10),
            "cut-at-50%" => Cut(bytes.Length / 2),
            "cut-at-90%" => Cut(bytes.Length * 9 / 10),
            // The last byte of these samples is not content: the word-alignment pad after a TIFF's last tag value, the
            // whitespace after a plain Netpbm's last sample. Their cuts at 10, 50 and 90 % stand for them.
            "last-byte-cut" => sampleKey is "tiff" or "tiff-deflate" or "pgm-plain" ? null : Cut(bytes.Length - 1),
            "zero-width" => ZeroWidth(),
            "huge-dimensions" => HugeDimensions(),
            "taller-than-its-data" => sampleKey is "bmp" or "tiff" or "tga" or "ppm" or "pgm-plain"
                ? new BrokenImage(name, Forge(format, bytes, ValidImages.Width, ValidImages.Height * 2)!, ImageDecodeErrorKind.Corrupt, "truncated") : null,
            "other-format-extension" => new BrokenImage(
                Path.ChangeExtension(name, sample.Extension == ".png" ? ".jpg" : ".png"), bytes, ImageDecodeErrorKind.ExtensionMismatch, "extension"),
            "ihdr-crc-flipped" => format == "png" ? Changed(b => FlipCrc(b, "IHDR"), "CRC") : null,
            "idat-crc-flipped" => format == "png" ? Changed(b => FlipCrc(b, "IDAT"), "CRC") : null,
            "ancillary-crc-flipped" => format == "png" ? Changed(b => FlipCrc(b, "pHYs"), "CRC") : null,
            "iend-crc-flipped" => format == "png" ? Changed(b => FlipCrc(b, "IEND"), "CRC") : null,
            "idat-length-flipped" => format == "png" ? Changed(b => b[PngChunk(b, "IDAT")] ^= 0x40, "IDAT") : null,
            "riff-size-flipped" => format == "webp" ? Changed(b => b[6] ^= 0x10, "RIFF") : null,
            "chunk-size-flipped" => format == "webp" ? Changed(b => b[18] ^= 0x10, "VP8") : null,
            "segment-length-flipped" => format == "jpeg" ? Changed(b => b[JpegSegment(b, 0xDB) + 2] ^= 0x40, "segment") : null,
            "pixel-offset-flipped" => format == "bmp" ? Changed(b => b[12] ^= 0x40, "pixel data") : null,
            "strip-byte-count-flipped" => format == "tiff" ? Changed(b => PatchTiff(b, TiffTag.StripByteCounts, 0x40_0000), "strip") : null,
            "id-length-flipped" => sampleKey == "tga" ? Changed(b => b[0] ^= 0x80, "truncated") : null,
            _ => throw new ArgumentOutOfRangeException(nameof(damage), damage, "Unknown damage."),
        };

        BrokenImage Cut(int length) => new(name, bytes[..length], ImageDecodeErrorKind.Corrupt, "truncated");

        BrokenImage Changed(Action<byte[]> change, string reason)
        {
            var copy = bytes.ToArray();
            change(copy);
            return new BrokenImage(name, copy, ImageDecodeErrorKind.Corrupt, reason);
        }

        BrokenImage? ZeroWidth()
        {
            if (Forge(format, bytes, 0, ValidImages.Height) is not { } forged)
            {
                return null;
            }

            // A TGA has no signature: one that declares no pixels is not recognised as a TGA at all.
            return format switch
            {
                "tga" => new BrokenImage(name, forged, ImageDecodeErrorKind.UnknownFormat, "not an image format"),
                "webp" => new BrokenImage(name, forged, ImageDecodeErrorKind.Corrupt, "zero"),
                _ => new BrokenImage(name, forged, ImageDecodeErrorKind.Corrupt, $"0x{ValidImages.Height}"),
            };
        }

        BrokenImage? HugeDimensions()
        {
            var side = format == "webp" ? HugeWebp : Huge;
            return Forge(format, bytes, side, side) is { } forged ? new BrokenImage(name, forged, ImageDecodeErrorKind.TooLarge, $"{side}x{side}") : null;
        }
    }

    /// <summary>A copy of <paramref name="bytes"/> whose header declares <paramref name="width"/> × <paramref name="height"/>,
    /// consistent otherwise (a PNG's IHDR CRC is recomputed): null where the format cannot store those numbers.</summary>
    private static byte[]? Forge(string format, byte[] bytes, int width, int height)
    {
        var copy = bytes.ToArray();
        switch (format)
        {
            case "jpeg":
                var frame = JpegSegment(copy, 0xC0, 0xC2);
                BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(frame + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(frame + 7), (ushort)width);
                return copy;
            case "png":
                BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
                BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
                BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), Crc32.HashToUInt32(copy.AsSpan(12, 17)));
                return copy;
            case "gif":
                BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(6), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(8), (ushort)height);
                return copy;
            case "bmp":
                BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(18), width);
                BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(22), height);
                return copy;
            case "tiff":
                PatchTiff(copy, TiffTag.ImageWidth, (uint)width);
                PatchTiff(copy, TiffTag.ImageLength, (uint)height);
                return copy;
            case "tga":
                BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(12), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(14), (ushort)height);
                return copy;
            case "ppm" or "pgm":
                var header = Encoding.ASCII.GetString(copy, 0, 32);
                var match = Regex.Match(header, @"^P\d\s+(\d+)\s+(\d+)");
                var forged = string.Concat(header.AsSpan(0, match.Groups[1].Index), $"{width} {height}");
                return [.. Encoding.ASCII.GetBytes(forged), .. copy.AsSpan(match.Groups[2].Index + match.Groups[2].Length)];
            case "webp":
                return ForgeWebp(copy, width, height);
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "No header forger for this format.");
        }
    }

    private static byte[]? ForgeWebp(byte[] copy, int width, int height)
    {
        var forged = false;
        for (var chunk = 12; chunk + 8 <= copy.Length; chunk += 8 + ((BinaryPrimitives.ReadInt32LittleEndian(copy.AsSpan(chunk + 4)) + 1) & ~1))
        {
            var data = copy.AsSpan(chunk + 8);
            switch (Encoding.ASCII.GetString(copy, chunk, 4))
            {
                case "VP8X":
                    WriteUInt24(data[4..], width - 1);
                    WriteUInt24(data[7..], height - 1);
                    break;
                case "VP8 ":
                    BinaryPrimitives.WriteUInt16LittleEndian(data[6..], (ushort)width);
                    BinaryPrimitives.WriteUInt16LittleEndian(data[8..], (ushort)height);
                    forged = true;
                    break;
                case "VP8L" when width >= 1 && height >= 1:
                    var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[1..]);
                    bits = (bits & 0xF000_0000) | (uint)(width - 1) | ((uint)(height - 1) << 14);
                    BinaryPrimitives.WriteUInt32LittleEndian(data[1..], bits);
                    forged = true;
                    break;
            }
        }

        return forged ? copy : null;

        static void WriteUInt24(Span<byte> destination, int value)
        {
            destination[0] = (byte)value;
            destination[1] = (byte)(value >> 8);
            destination[2] = (byte)(value >> 16);
        }
    }

    /// <summary>Offset of the length field of PNG chunk <paramref name="type"/>.</summary>
    private static int PngChunk(byte[] png, string type)
    {
        for (var chunk = 8; chunk + 8 <= png.Length; chunk += 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(chunk)))
        {
            if (Encoding.ASCII.GetString(png, chunk + 4, 4) == type)
            {
                return chunk;
            }
        }

        throw new InvalidOperationException($"The sample PNG has no {type} chunk.");
    }

    private static void FlipCrc(byte[] png, string type)
    {
        var chunk = PngChunk(png, type);
        png[chunk + 8 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(chunk)) + 3] ^= 0x01;
    }

    /// <summary>Offset of the first marker (FF xx) among <paramref name="markers"/>, walking the segments before the scan.</summary>
    private static int JpegSegment(byte[] jpeg, params byte[] markers)
    {
        for (var position = 2; position + 4 <= jpeg.Length; position += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(position + 2)))
        {
            if (markers.Contains(jpeg[position + 1]))
            {
                return position;
            }
        }

        throw new InvalidOperationException($"The sample JPEG has no marker {Convert.ToHexString(markers)}.");
    }

    private enum TiffTag : ushort
    {
        ImageWidth = 256,
        ImageLength = 257,
        StripByteCounts = 279,
    }

    /// <summary>Sets the (first) value of <paramref name="tag"/> in the first IFD.</summary>
    private static void PatchTiff(byte[] tiff, TiffTag tag, uint value)
    {
        var little = tiff[0] == (byte)'I';
        var ifd = (int)Read32(4);
        for (var entry = ifd + 2; entry < ifd + 2 + (12 * Read16(ifd)); entry += 12)
        {
            if (Read16(entry) != (ushort)tag)
            {
                continue;
            }

            var isShort = Read16(entry + 2) == 3;
            var count = Read32(entry + 4);
            var at = (isShort ? 2 : 4) * count <= 4 ? entry + 8 : (int)Read32(entry + 8);
            if (isShort)
            {
                Write(at, 2, value);
            }
            else
            {
                Write(at, 4, value);
            }

            return;
        }

        throw new InvalidOperationException($"The sample TIFF has no tag {tag}.");

        ushort Read16(int at) => little ? BinaryPrimitives.ReadUInt16LittleEndian(tiff.AsSpan(at)) : BinaryPrimitives.ReadUInt16BigEndian(tiff.AsSpan(at));

        uint Read32(int at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(tiff.AsSpan(at)) : BinaryPrimitives.ReadUInt32BigEndian(tiff.AsSpan(at));

        void Write(int at, int size, uint number)
        {
            for (var i = 0; i < size; i++)
            {
                tiff[at + (little ? i : size - 1 - i)] = (byte)(number >> (8 * i));
            }
        }
    }
}
