using System.Buffers.Binary;
using System.IO.Compression;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class BicubicResizerTests
{
    // The resizer reproduces OpenCV's arithmetic, including the float vertical pass of its SSE2 code, so the
    // accepted difference from cv2.resize(INTER_CUBIC) is zero: any non-zero difference is a bug.
    private const int AcceptedMaxPixelDifference = 0;

    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(FixtureDirectory, "*.bin.gz").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    private static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "resize");

    [Fact]
    public void All_ten_opencv_fixtures_are_present()
    {
        // Guards the theory below: an empty fixture folder would make it pass vacuously.
        Assert.Equal(10, Directory.EnumerateFiles(FixtureDirectory, "*.bin.gz").Count());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Resize_matches_cv2_inter_cubic_bit_for_bit(string fixtureName)
    {
        var fixture = ResizeFixture.Load(Path.Combine(FixtureDirectory, fixtureName));
        var resizer = new BicubicResizer(fixture.CropWidth, fixture.CropHeight, fixture.OutputSize);
        var actual = new byte[resizer.OutputLength];

        resizer.Resize(fixture.Source, fixture.SourceWidth * 3, fixture.CropTop, fixture.CropLeft, actual);

        var (maxDifference, differing, firstIndex) = Compare(fixture.Expected, actual);
        Assert.True(
            maxDifference <= AcceptedMaxPixelDifference,
            $"{fixtureName}: {differing} of {actual.Length} values differ, max {maxDifference}; first at byte {firstIndex} " +
            $"(expected {fixture.Expected[Math.Max(firstIndex, 0)]}, got {actual[Math.Max(firstIndex, 0)]}).");
    }

    [Fact]
    public void Resizing_to_the_same_size_copies_the_crop()
    {
        var source = new byte[5 * 4 * 3];
        new Random(11).NextBytes(source);
        var resizer = new BicubicResizer(sourceWidth: 3, sourceHeight: 3, outputSize: 3);
        var actual = new byte[27];

        resizer.Resize(source, sourceStride: 5 * 3, top: 1, left: 2, actual);

        for (var row = 0; row < 3; row++)
        {
            Assert.Equal(source.AsSpan(((row + 1) * 15) + 6, 9).ToArray(), actual.AsSpan(row * 9, 9).ToArray());
        }
    }

    [Fact]
    public void A_crop_that_leaves_the_source_is_rejected()
    {
        var resizer = new BicubicResizer(4, 4, 2);
        var source = new byte[4 * 4 * 3];

        Assert.Throws<ArgumentException>(() => resizer.Resize(source, 12, top: 1, left: 0, new byte[resizer.OutputLength]));
        Assert.Throws<ArgumentOutOfRangeException>(() => resizer.Resize(source, 12, top: 0, left: 1, new byte[resizer.OutputLength]));
        Assert.Throws<ArgumentException>(() => resizer.Resize(source, 12, 0, 0, new byte[resizer.OutputLength - 1]));
    }

    [Fact]
    public void Concurrent_resizes_with_one_instance_give_identical_results()
    {
        var source = new byte[120 * 90 * 3];
        new Random(5).NextBytes(source);
        var resizer = new BicubicResizer(80, 80, 61);
        var reference = new byte[resizer.OutputLength];
        resizer.Resize(source, 120 * 3, 5, 20, reference);

        Parallel.For(0, 64, _ =>
        {
            var actual = new byte[resizer.OutputLength];
            resizer.Resize(source, 120 * 3, 5, 20, actual);
            Assert.Equal(reference, actual);
        });
    }

    public static TheoryData<int, int, int> SimdCases()
    {
        // (crop width, crop height, output size): downscales up to 9x, the same size, upscales, and widths below the
        // 16 bytes one SIMD load reads (no pixel qualifies: the scalar loop does the whole row).
        var data = new TheoryData<int, int, int>();
        foreach (var (width, height, output) in new[]
        {
            (328, 328, 224), (500, 375, 224), (2000, 1500, 224), (1999, 7, 300), (224, 224, 224), (120, 90, 600),
            (7, 7, 224), (5, 9, 3), (6, 6, 6), (1, 1, 4), (17, 17, 5), (457, 457, 456), (601, 33, 528),
        })
        {
            data.Add(width, height, output);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SimdCases))]
    public void The_simd_horizontal_pass_gives_the_scalar_loops_bytes(int width, int height, int output)
    {
        // The crop sits at the bottom-right corner of a tight buffer: the pixels at its right border, whose taps are
        // clamped and whose 16-byte load would leave the array, must take the scalar loop.
        var sourceWidth = width + 3;
        var sourceHeight = height + 2;
        var source = new byte[sourceWidth * sourceHeight * 3];
        new Random((width * 31) + output).NextBytes(source);
        var resizer = new BicubicResizer(width, height, output);
        var scalar = new byte[resizer.OutputLength];
        var simd = new byte[resizer.OutputLength];

        resizer.Resize(source, sourceWidth * 3, top: 2, left: 3, scalar, vectorRows: false);
        if (!BicubicResizer.VectorRowsSupported)
        {
            // Not x86-64 with SSSE3/SSE4.1: the public Resize takes the scalar loop, and asking for SIMD says why not.
            Assert.Throws<PlatformNotSupportedException>(() => resizer.Resize(source, sourceWidth * 3, 2, 3, simd, vectorRows: true));
            return;
        }

        resizer.Resize(source, sourceWidth * 3, top: 2, left: 3, simd, vectorRows: true);

        var (maxDifference, differing, firstIndex) = Compare(scalar, simd);
        Assert.True(differing == 0, $"{differing} of {simd.Length} values differ, max {maxDifference}, first at byte {firstIndex}.");
    }

    private static (int Max, int Count, int FirstIndex) Compare(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int max = 0, count = 0, first = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs(expected[i] - actual[i]);
            if (difference > 0)
            {
                count++;
                first = first < 0 ? i : first;
                max = Math.Max(max, difference);
            }
        }

        return (max, count, first);
    }

    /// <summary>One case written by Fixtures/make_resize_fixtures.py (layout documented there).</summary>
    private sealed record ResizeFixture(
        int SourceHeight, int SourceWidth, int CropTop, int CropLeft, int CropHeight, int CropWidth, int OutputSize,
        byte[] Source, byte[] Expected)
    {
        public static ResizeFixture Load(string path)
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var bytes = new MemoryStream();
            gzip.CopyTo(bytes);
            var data = bytes.ToArray();
            Assert.Equal("RSZ1"u8.ToArray(), data[..4]);
            var header = new int[7];
            for (var i = 0; i < header.Length; i++)
            {
                header[i] = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(4 + (4 * i)));
            }

            var sourceLength = header[0] * header[1] * 3;
            var expectedLength = header[6] * header[6] * 3;
            var body = data.AsSpan(32);
            Assert.Equal(sourceLength + expectedLength, body.Length);
            return new ResizeFixture(
                header[0], header[1], header[2], header[3], header[4], header[5], header[6],
                body[..sourceLength].ToArray(), body[sourceLength..].ToArray());
        }
    }
}
