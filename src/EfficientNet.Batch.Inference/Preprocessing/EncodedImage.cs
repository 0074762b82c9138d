using System.Buffers;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// An image's encoded bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>: the worker's pipeline (and
/// <see cref="ImagePreprocessor.PreprocessAsync"/>) reads every image into one of these and returns it
/// (<see cref="Dispose"/>) as soon as the image is decoded, so a worker reuses a few dozen buffers instead of
/// allocating (mostly on the large-object heap) one array per image.
/// </summary>
public sealed class EncodedImage : IDisposable
{
    /// <summary>First buffer for a stream of unknown length: most photos fit, larger ones grow it by doubling.</summary>
    public const int InitialBufferSize = 256 * 1024;

    private byte[]? _buffer;

    private EncodedImage(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Bytes => new(_buffer ?? throw new ObjectDisposedException(nameof(EncodedImage)), 0, Length);

    /// <summary>
    /// Reads <paramref name="stream"/> to its end into a pooled buffer, sized from the stream's length where it can
    /// seek. Reading stops as soon as more than <paramref name="maxBytes"/> arrive, so an oversized blob is never
    /// held whole in memory.
    /// </summary>
    /// <exception cref="ImageDecodeException">Kind "too-large": the stream holds more than <paramref name="maxBytes"/> bytes.</exception>
    public static async Task<EncodedImage> ReadAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 0);
        var limit = (int)Math.Min(maxBytes, Array.MaxLength - 1);
        if (stream.CanSeek && stream.Length - stream.Position > limit)
        {
            throw TooLarge(stream.Length - stream.Position, maxBytes);
        }

        // One byte more than the known length, so that the read which returns 0 proves the end.
        var initial = stream.CanSeek ? (int)(stream.Length - stream.Position) + 1 : Math.Min(InitialBufferSize, limit + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(initial);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        throw TooLarge(null, maxBytes);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > limit)
            {
                throw TooLarge(null, maxBytes);
            }

            return new EncodedImage(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Returns the buffer to the pool; <see cref="Bytes"/> must not be used afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ImageDecodeException TooLarge(long? size, long maxBytes) =>
        new(ImageDecodeErrorKind.TooLarge, size is { } known ? $"The file is {known} bytes; the limit is {maxBytes}." : $"The file is larger than the limit of {maxBytes} bytes.");
}
