using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Models.Checkpoints.Torch;

/// <summary>Reads raw little-endian storage bytes as float32. Float32 storages are read straight into the result
/// array (no intermediate copy); other float types go through a pooled chunk and are converted.</summary>
internal static class StorageDecoder
{
    private const int ChunkBytes = 1 << 20;

    public static float[] ReadAsFloat32(Stream stream, StorageReference storage)
    {
        if (storage.ElementCount > Array.MaxLength)
        {
            throw new CheckpointFormatException($"Storage '{storage.Key}' has {storage.ElementCount} elements, more than one array can hold.");
        }

        var values = new float[storage.ElementCount];
        try
        {
            if (storage.ElementType == CheckpointElementType.Float32)
            {
                stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
                if (!BitConverter.IsLittleEndian)
                {
                    var bits = MemoryMarshal.Cast<float, int>(values.AsSpan());
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }

                return values;
            }

            ReadConverted(stream, storage, values);
            return values;
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException($"Storage '{storage.Key}' ends before its {storage.ByteCount} bytes (file truncated?).", e);
        }
    }

    /// <summary>Moves past a storage that is not needed (e.g. num_batches_tracked in a legacy file).</summary>
    public static void Skip(Stream stream, StorageReference storage)
    {
        if (stream.CanSeek)
        {
            if (stream.Length - stream.Position < storage.ByteCount)
            {
                throw new CheckpointFormatException($"Storage '{storage.Key}' ends before its {storage.ByteCount} bytes (file truncated?).");
            }

            stream.Seek(storage.ByteCount, SeekOrigin.Current);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (var remaining = storage.ByteCount; remaining > 0;)
            {
                var read = stream.Read(buffer, 0, (int)Math.Min(remaining, ChunkBytes));
                remaining -= read > 0 ? read : throw new CheckpointFormatException($"Storage '{storage.Key}' ends before its {storage.ByteCount} bytes (file truncated?).");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ReadConverted(Stream stream, StorageReference storage, float[] values)
    {
        var elementSize = storage.ElementSize;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var elementsPerChunk = ChunkBytes / elementSize;
            for (var done = 0; done < values.Length;)
            {
                var count = Math.Min(elementsPerChunk, values.Length - done);
                var bytes = buffer.AsSpan(0, count * elementSize);
                stream.ReadExactly(bytes);
                var target = values.AsSpan(done, count);
                switch (storage.ElementType)
                {
                    case CheckpointElementType.Float64:
                        for (var i = 0; i < count; i++)
                        {
                            target[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]);
                        }

                        break;
                    case CheckpointElementType.Float16:
                        for (var i = 0; i < count; i++)
                        {
                            target[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                        }

                        break;
                    case CheckpointElementType.BFloat16:
                        // bfloat16 is the top half of a float32.
                        for (var i = 0; i < count; i++)
                        {
                            target[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16);
                        }

                        break;
                    default:
                        throw new CheckpointFormatException($"Storage '{storage.Key}' holds {storage.ElementType}, which is not a floating-point type.");
                }

                done += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
