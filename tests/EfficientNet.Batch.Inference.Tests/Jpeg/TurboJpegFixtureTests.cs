using System.Security.Cryptography;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Inference.Tests.Jpeg;

/// <summary>
/// libjpeg-turbo decodes JPEGs to exactly cv2.imread's pixels (IMREAD_COLOR, EXIF orientation applied), checked against
/// hashes of OpenCV's output written by Fixtures/make_jpeg_fixtures.py. libturbojpeg0 is required: scripts/test.sh installs
/// it, so a missing library fails these tests instead of skipping them.
/// </summary>
public sealed class TurboJpegFixtureTests
{
    private const int Resolution = 32;
    private static readonly PreprocessSpec Spec = PreprocessSpec.ImageNet(Resolution);

    private static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "jpeg");

    public static TheoryData<string> SyntheticCases => [.. ReadFixture("imread-synthetic.csv").Select(row => row.File)];

    [Fact]
    public void Every_shared_photo_decodes_to_the_pixels_of_cv2_imread()
    {
        var preprocessor = TurboJpegPreprocessor();
        var expected = ReadFixture("imread-samples.csv");
        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();

        Parallel.ForEach(expected, row =>
        {
            var actual = DecodedHash(preprocessor, File.ReadAllBytes(SharedData.Sample(row.File)), row.File);
            if (actual != row)
            {
                mismatches.Add($"{row.File}: OpenCV {row.Width}x{row.Height} {row.Sha256[..12]}, decoded {actual.Width}x{actual.Height} {actual.Sha256[..12]}");
            }
        });

        Assert.Equal(1000, expected.Count);
        Assert.True(mismatches.IsEmpty, $"{mismatches.Count} of {expected.Count} photos differ from cv2.imread:\n{string.Join('\n', mismatches.Order(StringComparer.Ordinal))}");
    }

    [Theory]
    [MemberData(nameof(SyntheticCases))]
    public void Orientation_grayscale_progressive_and_tiny_jpegs_decode_to_the_pixels_of_cv2_imread(string file)
    {
        var expected = ReadFixture("imread-synthetic.csv").Single(row => row.File == file);

        var actual = DecodedHash(TurboJpegPreprocessor(), File.ReadAllBytes(Path.Combine(FixtureDirectory, "synthetic", file)), file);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Auto_preprocesses_a_jpeg_from_the_turbo_pixels_and_so_unlike_imagesharp()
    {
        var bytes = File.ReadAllBytes(SharedData.Sample("n01443537_goldfish.JPEG"));
        var auto = new ImagePreprocessor(Spec);
        Assert.Equal(JpegDecoderKind.TurboJpeg, auto.JpegDecoder);
        using var pixels = auto.DecodeWithTurboJpeg(bytes) ?? throw new InvalidOperationException("No TurboJPEG pixels.");
        var lossless = LosslessCopy(pixels);

        var fromJpeg = new float[Spec.TensorLength];
        var fromPixels = new float[Spec.TensorLength];
        var fromImageSharp = new float[Spec.TensorLength];
        auto.Preprocess(bytes, fromJpeg);
        auto.Preprocess(lossless, fromPixels);
        new ImagePreprocessor(Spec, jpegDecoder: JpegDecoderKind.ImageSharp).Preprocess(bytes, fromImageSharp);

        Assert.Equal(fromPixels, fromJpeg);
        Assert.NotEqual(fromImageSharp, fromJpeg);
    }

    [Fact]
    public void The_imagesharp_choice_never_uses_libjpeg_turbo()
    {
        var preprocessor = new ImagePreprocessor(Spec, jpegDecoder: JpegDecoderKind.ImageSharp);

        Assert.Equal(JpegDecoderKind.ImageSharp, preprocessor.JpegDecoder);
        Assert.Null(preprocessor.DecodeWithTurboJpeg(File.ReadAllBytes(SharedData.Sample("n01443537_goldfish.JPEG"))));
    }

    [Fact]
    public void A_cmyk_jpeg_is_left_to_imagesharp()
    {
        Assert.Null(TurboJpegPreprocessor().DecodeWithTurboJpeg(File.ReadAllBytes(SharedData.BadInput("cmyk.jpg"))));
    }

    [Fact]
    public void A_truncated_jpeg_is_still_a_truncated_error_record()
    {
        var whole = File.ReadAllBytes(SharedData.Sample("n01440764_tench.JPEG"));

        var error = Assert.Throws<ImageDecodeException>(() => TurboJpegPreprocessor().DecodeWithTurboJpeg(whole.AsMemory(0, whole.Length / 2)));

        Assert.Equal(ImageDecodeErrorKind.Corrupt, error.Kind);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_jpeg_cut_short_with_an_end_marker_appended_is_a_truncated_error_record()
    {
        // The structure is whole (the integrity check finds its end marker), but half the scan data is missing: libjpeg
        // warns "premature end of data segment" and would fill the rest with grey.
        var whole = File.ReadAllBytes(SharedData.Sample("n01440764_tench.JPEG"));
        byte[] patched = [.. whole.AsSpan(0, whole.Length / 2), 0xFF, 0xD9];

        var error = Assert.Throws<ImageDecodeException>(() => TurboJpegPreprocessor().DecodeWithTurboJpeg(patched));

        Assert.Equal(ImageDecodeErrorKind.Corrupt, error.Kind);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains("libjpeg-turbo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_libjpeg_turbo_cannot_read_does_not_spoil_the_decodes_after_it()
    {
        // libjpeg-turbo 2.1 leaves a handle mid-header after such a failure; pooled, that handle failed every later header
        // and sent valid JPEGs to ImageSharp. One thread, so the pool hands the same handle back each time.
        var preprocessor = TurboJpegPreprocessor();
        var photo = File.ReadAllBytes(SharedData.Sample("n02106166_Border_collie.JPEG"));
        byte[] bogusHeader = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02, .. "not a frame header"u8, 0xFF, 0xD9];

        for (var attempt = 0; attempt < 4; attempt++)
        {
            Assert.Null(preprocessor.DecodeWithTurboJpeg(bogusHeader));
            using var pixels = preprocessor.DecodeWithTurboJpeg(photo);
            Assert.NotNull(pixels);
            Assert.Equal((333, 500), (pixels.Width, pixels.Height));
        }
    }

    private static ImagePreprocessor TurboJpegPreprocessor()
    {
        Assert.True(
            TurboJpegLibrary.IsAvailable,
            $"These tests need libjpeg-turbo: {TurboJpegLibrary.LoadError}. Install it (apt-get install libturbojpeg0; scripts/test.sh does).");
        return new ImagePreprocessor(Spec, jpegDecoder: JpegDecoderKind.TurboJpeg);
    }

    private static FixtureRow DecodedHash(ImagePreprocessor preprocessor, byte[] jpeg, string file)
    {
        using var pixels = preprocessor.DecodeWithTurboJpeg(jpeg, file) ?? throw new InvalidOperationException($"{file} was not decoded by libjpeg-turbo.");
        return new FixtureRow(file, pixels.Height, pixels.Width, Convert.ToHexStringLower(SHA256.HashData(pixels.Span)));
    }

    private static byte[] LosslessCopy(RgbPixels pixels)
    {
        using var image = Image.LoadPixelData<Rgb24>(pixels.Span, pixels.Width, pixels.Height);
        using var png = new MemoryStream();
        image.Save(png, new PngEncoder());
        return png.ToArray();
    }

    private static List<FixtureRow> ReadFixture(string name) =>
        [.. File.ReadLines(Path.Combine(FixtureDirectory, name)).Skip(1).Select(line => line.Split(',')).Select(f => new FixtureRow(f[0], int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), f[3]))];

    private sealed record FixtureRow(string File, int Height, int Width, string Sha256);
}
