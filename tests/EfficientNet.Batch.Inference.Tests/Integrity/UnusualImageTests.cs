using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Inference.Tests.Integrity;

/// <summary>Valid files that look unusual to a strict reader must keep working (EXIF orientation, alpha and CMYK: see
/// <see cref="ImagePreprocessorTests"/>).</summary>
public sealed class UnusualImageTests
{
    private const int Resolution = 32;
    private static readonly PreprocessSpec Spec = PreprocessSpec.ImageNet(Resolution);
    private static readonly ImagePreprocessor Preprocessor = new(Spec);

    public static TheoryData<string> Encoders => [.. ValidImages.Encoders.Select(e => e.Key)];

    public static TheoryData<string> Samples => [.. ValidImages.All.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public void A_progressive_jpeg_decodes_to_its_levels()
    {
        var levels = new byte[6, 8];
        for (var row = 0; row < 6; row++)
        {
            for (var column = 0; column < 8; column++)
            {
                levels[row, column] = 200;
            }
        }

        var tensor = new float[Spec.TensorLength];

        var result = Preprocessor.Preprocess(ProgressiveJpeg.Encode(levels), tensor, "progressive.jpg");

        Assert.Equal(("JPEG", 64, 48), (result.Format, result.Width, result.Height));
        Assert.All(Enumerable.Range(0, tensor.Length), i => Assert.InRange(Denormalise(tensor[i], i / (Resolution * Resolution)), 199, 201));
    }

    [Fact]
    public void A_16_bit_png_is_scaled_to_8_bits()
    {
        using var image = new Image<Rgb48>(20, 10, new Rgb48(0xFFFF, 0x8080, 0x0000));
        var tensor = new float[Spec.TensorLength];

        Preprocessor.Preprocess(ValidImages.Encode(image, new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Rgb }), tensor, "deep.png");

        var plane = Resolution * Resolution;
        Assert.Equal((255, 128, 0), (Denormalise(tensor[0], 0), Denormalise(tensor[plane], 1), Denormalise(tensor[2 * plane], 2)));
    }

    [Fact]
    public void An_animated_gif_is_classified_by_its_first_frame()
    {
        using var animated = ValidImages.AnimatedGif();
        var tensor = new float[Spec.TensorLength];

        Preprocessor.Preprocess(ValidImages.Encode(animated, new GifEncoder()), tensor, "animated.gif");

        // The second frame is solid magenta (no green); the first has a green ramp from 0 to 255.
        var plane = Resolution * Resolution;
        var green = Enumerable.Range(plane, plane).Average(i => Denormalise(tensor[i], 1));
        Assert.InRange(green, 100, 155);
    }

    [Theory]
    [MemberData(nameof(Encoders))]
    public void A_one_pixel_image_decodes_in_every_format(string format)
    {
        using var image = new Image<Rgba32>(1, 1, new Rgba32(250, 120, 10, 255));
        var (_, extension, encoder) = ValidImages.Encoders.Single(e => e.Key == format);

        var result = Preprocessor.Preprocess(ValidImages.Encode(image, encoder), new float[Spec.TensorLength], $"dot{extension}");

        Assert.Equal((1, 1), (result.Width, result.Height));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Bytes_after_the_end_of_a_whole_file_are_ignored(string sample)
    {
        var valid = ValidImages.All[sample];

        byte[] padded = [.. valid.Bytes, .. new byte[16]];

        var result = Preprocessor.Preprocess(padded, new float[Spec.TensorLength], valid.Name);

        Assert.Equal(ValidImages.Width, result.Width);
    }

    [Theory]
    [InlineData("png", "photo.PNG")]
    [InlineData("png", "photo")]
    [InlineData("png", "photo.bin")]
    [InlineData("png", "folder.v2/photo")]
    [InlineData("jpeg", "photo.jpeg")]
    [InlineData("jpeg", "photo.JFIF")]
    [InlineData("tiff", "scan.tif")]
    [InlineData("ppm", "frame.pnm")]
    public void An_extension_is_compared_ignoring_case_and_only_when_it_names_an_image_format(string sample, string name)
    {
        var result = Preprocessor.Preprocess(ValidImages.All[sample].Bytes, new float[Spec.TensorLength], name);

        Assert.Equal(ValidImages.Width, result.Width);
    }

    [Fact]
    public void A_renamed_file_names_both_formats()
    {
        var error = Assert.Throws<ImageDecodeException>(
            () => Preprocessor.Preprocess(ValidImages.All["png"].Bytes, new float[Spec.TensorLength], "holiday/IMG_0001.JPG"));

        Assert.Equal(ImageDecodeErrorKind.ExtensionMismatch, error.Kind);
        Assert.Equal("extension mismatch: 'holiday/IMG_0001.JPG' holds a PNG image, but its extension .JPG is JPEG's.", error.Message);
    }

    private static int Denormalise(float value, int channel) =>
        (int)MathF.Round((value * Spec.StdRgb[channel]) + Spec.MeanRgb[channel]);
}
