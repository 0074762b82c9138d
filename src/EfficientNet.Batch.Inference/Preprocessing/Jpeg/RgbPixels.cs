using System.Buffers;

namespace EfficientNet.Batch.Inference;

/// <summary>A decoded image as interleaved R, G, B bytes, row-major, without padding, in a pooled buffer that
/// <see cref="Dispose"/> returns.</summary>
internal sealed class RgbPixels : IDisposable
{
    public const int Channels = 3;

    private byte[]? _buffer;

    public RgbPixels(int width, int height)
    {
        Width = width;
        Height = height;
        _buffer = ArrayPool<byte>.Shared.Rent(checked(width * height * Channels));
    }

    public int Width { get; }

    public int Height { get; }

    public int Stride => Width * Channels;

    public Span<byte> Span => (_buffer ?? throw new ObjectDisposedException(nameof(RgbPixels))).AsSpan(0, Stride * Height);

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
