using System.Buffers.Binary;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Walks a TIFF's image file directories (classic and BigTIFF): every directory, tag value, strip and tile must lie
/// inside the file, and uncompressed strips must hold every row. ImageSharp 2.1 decodes a TIFF whose strips run past
/// the end of the file, or are shorter than the image, leaving the missing rows black.
/// </summary>
internal static class TiffIntegrity
{
    private const int MaxDirectories = 1024; // a loop in the directory chain must not hang the worker

    private const ushort ImageWidth = 256;
    private const ushort ImageLength = 257;
    private const ushort BitsPerSample = 258;
    private const ushort Compression = 259;
    private const ushort StripOffsets = 273;
    private const ushort SamplesPerPixel = 277;
    private const ushort RowsPerStrip = 278;
    private const ushort StripByteCounts = 279;
    private const ushort PlanarConfiguration = 284;
    private const ushort TileOffsets = 324;
    private const ushort TileByteCounts = 325;

    /// <summary>What is wrong with <paramref name="tiff"/>'s layout, or null.</summary>
    public static string? FindDamage(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return $"truncated TIFF ({tiff.Length} bytes end inside the header)";
        }

        var reader = new Reader(tiff[0] == 'I', BinaryPrimitives.ReadUInt16LittleEndian(tiff[2..]) == 43 || BinaryPrimitives.ReadUInt16BigEndian(tiff[2..]) == 43);
        if (reader.Big && tiff.Length < 16)
        {
            return $"truncated TIFF ({tiff.Length} bytes end inside the header)";
        }

        var directory = reader.Big ? reader.Offset(tiff, 8) : reader.Offset(tiff, 4);
        for (var index = 0; directory != 0; index++)
        {
            if (index == MaxDirectories)
            {
                return $"broken TIFF directory chain (more than {MaxDirectories} image directories: a loop)";
            }

            var damage = DirectoryDamage(tiff, reader, directory, index, out directory);
            if (damage is not null)
            {
                return damage;
            }
        }

        return null;
    }

    private static string? DirectoryDamage(ReadOnlySpan<byte> tiff, Reader reader, long offset, int index, out long next)
    {
        next = 0;
        var countLength = reader.Big ? 8 : 2;
        var entryLength = reader.Big ? 20 : 12;
        if (offset + countLength > tiff.Length)
        {
            return $"truncated TIFF (image directory {index} should start at byte {offset}; the file ends at byte {tiff.Length})";
        }

        var count = reader.Big ? reader.Offset(tiff, (int)offset) : reader.UInt16(tiff, (int)offset);
        var entries = offset + countLength;
        var end = entries + (count * entryLength) + (reader.Big ? 8 : 4);
        if (count > ushort.MaxValue || end > tiff.Length)
        {
            return $"truncated TIFF (image directory {index} at byte {offset} holds {count} entries, past the end of the file at byte {tiff.Length})";
        }

        var image = new ImageLayout();
        for (var entry = (int)entries; entry < end - (reader.Big ? 8 : 4); entry += entryLength)
        {
            var tag = reader.UInt16(tiff, entry);
            var type = reader.UInt16(tiff, entry + 2);
            var values = reader.Big ? reader.Offset(tiff, entry + 4) : reader.UInt32(tiff, entry + 4);
            var size = TypeSize(type) * values;
            var inline = size <= (reader.Big ? 8 : 4);
            var at = inline ? entry + (reader.Big ? 12 : 8) : reader.Offset(tiff, entry + (reader.Big ? 12 : 8));
            if (!inline && at + size > tiff.Length)
            {
                return $"truncated TIFF or broken tag (tag {tag}'s {values} values at byte {at} run past the end of the file at byte {tiff.Length})";
            }

            if (values > 0 && type is 3 or 4 or 16)
            {
                image.Record(tag, tiff, reader, (int)at, type, values);
            }
        }

        next = reader.Offset(tiff, (int)(end - (reader.Big ? 8 : 4)));
        return image.Damage(tiff, reader, index);
    }

    private static int TypeSize(ushort type) => type switch
    {
        1 or 2 or 6 or 7 => 1,
        3 or 8 => 2,
        4 or 9 or 11 or 13 => 4,
        5 or 10 or 12 or 16 or 17 or 18 => 8,
        _ => 0, // unknown types are skipped by readers
    };

    /// <summary>The tags that say where the pixel data is and how much of it there must be.</summary>
    private sealed class ImageLayout
    {
        private (int At, ushort Type, long Count) _offsets;
        private (int At, ushort Type, long Count) _byteCounts;
        private bool _tiled;

        public long Width { get; private set; }
        public long Height { get; private set; }
        public long BitsPerSample { get; private set; } = 1;
        public long Samples { get; private set; } = 1;
        public long Compression { get; private set; } = 1;
        public long RowsPerStrip { get; private set; } = uint.MaxValue;
        public long Planar { get; private set; } = 1;

        public void Record(ushort tag, ReadOnlySpan<byte> tiff, Reader reader, int at, ushort type, long count)
        {
            switch (tag)
            {
                case ImageWidth: Width = reader.Value(tiff, at, type, 0); break;
                case ImageLength: Height = reader.Value(tiff, at, type, 0); break;
                case TiffIntegrity.BitsPerSample: BitsPerSample = reader.Value(tiff, at, type, 0); break;
                case TiffIntegrity.Compression: Compression = reader.Value(tiff, at, type, 0); break;
                case SamplesPerPixel: Samples = reader.Value(tiff, at, type, 0); break;
                case TiffIntegrity.RowsPerStrip: RowsPerStrip = reader.Value(tiff, at, type, 0); break;
                case PlanarConfiguration: Planar = reader.Value(tiff, at, type, 0); break;
                case StripOffsets or TileOffsets: _offsets = (at, type, count); _tiled = tag == TileOffsets; break;
                case StripByteCounts or TileByteCounts: _byteCounts = (at, type, count); break;
            }
        }

        public string? Damage(ReadOnlySpan<byte> tiff, Reader reader, int index)
        {
            var part = _tiled ? "tile" : "strip";
            var parts = Math.Min(_offsets.Count, _byteCounts.Count);
            long total = 0;
            for (var i = 0; i < parts; i++)
            {
                var offset = reader.Value(tiff, _offsets.At, _offsets.Type, i);
                var length = reader.Value(tiff, _byteCounts.At, _byteCounts.Type, i);
                if (offset + length > tiff.Length)
                {
                    return $"truncated TIFF or broken {part} length ({part} {i} of image {index} at byte {offset} declares {length} bytes; the file ends at byte {tiff.Length})";
                }

                total += length;
            }

            // Uncompressed strips must hold every row: ImageSharp reads a short strip as black rows.
            if (Compression == 1 && !_tiled && parts > 0 && Width > 0 && Height > 0)
            {
                // 128-bit: forged dimensions must not overflow into a small number.
                var bitsPerRow = (Int128)Width * BitsPerSample * (Planar == 2 ? 1 : Samples);
                var needed = (bitsPerRow + 7) / 8 * Height * (Planar == 2 ? Samples : 1);
                if (total < needed)
                {
                    return $"truncated TIFF (the strips of image {index} hold {total} bytes; {Width}x{Height} pixels need {needed})";
                }
            }

            return null;
        }
    }

    private readonly record struct Reader(bool Little, bool Big)
    {
        public ushort UInt16(ReadOnlySpan<byte> data, int at) =>
            Little ? BinaryPrimitives.ReadUInt16LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt16BigEndian(data[at..]);

        public uint UInt32(ReadOnlySpan<byte> data, int at) =>
            Little ? BinaryPrimitives.ReadUInt32LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt32BigEndian(data[at..]);

        /// <summary>A file offset or count: 4 bytes, or 8 in a BigTIFF.</summary>
        public long Offset(ReadOnlySpan<byte> data, int at) => Big ? UInt64(data, at) : UInt32(data, at);

        // Clamped so that sums of offsets and lengths cannot overflow; any such value is past the end of the file.
        private long UInt64(ReadOnlySpan<byte> data, int at) =>
            (long)Math.Min(Little ? BinaryPrimitives.ReadUInt64LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt64BigEndian(data[at..]), int.MaxValue);

        /// <summary>Value <paramref name="index"/> of a SHORT, LONG or LONG8 array.</summary>
        public long Value(ReadOnlySpan<byte> data, int at, ushort type, long index) => type switch
        {
            3 => UInt16(data, at + (int)(2 * index)),
            4 => UInt32(data, at + (int)(4 * index)),
            _ => UInt64(data, at + (int)(8 * index)),
        };
    }
}
