using EfficientNet.Batch.Testing;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class EncodedImageTests
{
    private static byte[] Content(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31)).ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(EncodedImage.InitialBufferSize)]
    [InlineData((3 * EncodedImage.InitialBufferSize) + 17)]
    public async Task A_stream_that_cannot_seek_is_read_whole_however_long(int length)
    {
        var content = Content(length);

        using var image = await EncodedImage.ReadAsync(new NonSeekableStream(new MemoryStream(content), maxRead: 7000), 64L << 20, CancellationToken.None);

        Assert.Equal(length, image.Length);
        Assert.True(image.Bytes.Span.SequenceEqual(content));
    }

    [Fact]
    public async Task A_seekable_stream_is_read_from_its_position_into_one_buffer()
    {
        var content = Content(100_000);
        using var stream = new MemoryStream(content) { Position = 10 };

        using var image = await EncodedImage.ReadAsync(stream, 100_000, CancellationToken.None);

        Assert.True(image.Bytes.Span.SequenceEqual(content.AsSpan(10)));
    }

    [Fact]
    public async Task A_seekable_stream_over_the_limit_is_refused_before_any_byte_is_read()
    {
        using var stream = new MemoryStream(Content(1001));

        var error = await Assert.ThrowsAsync<ImageDecodeException>(() => EncodedImage.ReadAsync(stream, 1000, CancellationToken.None));

        Assert.Equal(ImageDecodeErrorKind.TooLarge, error.Kind);
        Assert.Equal("The file is 1001 bytes; the limit is 1000.", error.Message);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task An_endless_stream_is_cut_off_soon_after_the_limit()
    {
        var endless = new EndlessStream();

        var error = await Assert.ThrowsAsync<ImageDecodeException>(() => EncodedImage.ReadAsync(endless, 1_000_000, CancellationToken.None));

        Assert.Equal(ImageDecodeErrorKind.TooLarge, error.Kind);
        Assert.InRange(endless.Served, 1_000_001, 2_100_000);
    }

    [Fact]
    public async Task A_stream_exactly_at_the_limit_is_accepted()
    {
        using var image = await EncodedImage.ReadAsync(new NonSeekableStream(new MemoryStream(Content(5000)), maxRead: 7000), 5000, CancellationToken.None);

        Assert.Equal(5000, image.Length);
    }

    [Fact]
    public async Task The_bytes_are_gone_once_the_buffer_is_returned()
    {
        var image = await EncodedImage.ReadAsync(new MemoryStream(Content(10)), 10, CancellationToken.None);

        image.Dispose();
        image.Dispose();

        Assert.Throws<ObjectDisposedException>(() => image.Bytes);
    }

    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, (byte)0xFF, offset, count);
            Served += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
