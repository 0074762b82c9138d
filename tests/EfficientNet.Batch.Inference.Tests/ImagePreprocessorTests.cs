using EfficientNet.Batch.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class ImagePreprocessorTests
{
    private const int Resolution = 32;
    private static readonly ImagePreprocessor Preprocessor = new(PreprocessSpec.ImageNet(Resolution));

    [Theory]
    [InlineData("empty.jpg", ImageDecodeErrorKind.Empty, "empty")]
    [InlineData("not-an-image.jpg", ImageDecodeErrorKind.UnknownFormat, "not an image format")]
    [InlineData("truncated.jpg", ImageDecodeErrorKind.Corrupt, "truncated")]
    [InlineData("bomb-50000x50000.png", ImageDecodeErrorKind.TooLarge, "50000x50000")]
    public void Broken_files_fail_with_a_kind_and_a_reason(string fileName, string kind, string reasonFragment)
    {
        var bytes = File.ReadAllBytes(SharedData.BadInput(fileName));

        var error = Assert.Throws<ImageDecodeException>(() => Preprocessor.Preprocess(bytes, new float[Preprocessor.TensorLength]));

        Assert.Equal(kind, error.Kind);
        Assert.Contains(reasonFragment, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Every_shared_bad_input_but_the_cmyk_photo_fails_with_a_kind_and_a_reason()
    {
        var broken = Directory.GetFiles(SharedData.BadInputsDirectory).Where(f => Path.GetFileName(f) != "cmyk.jpg").ToList();

        Assert.NotEmpty(broken);
        Assert.All(broken, path =>
        {
            var error = Assert.Throws<ImageDecodeException>(
                () => Preprocessor.Preprocess(File.ReadAllBytes(path), new float[Preprocessor.TensorLength], Path.GetFileName(path)));
            Assert.False(string.IsNullOrWhiteSpace(error.Message), path);
        });
    }

    [Fact]
    public void Every_shared_sample_photo_decodes_under_its_own_name()
    {
        var photos = Directory.GetFiles(SharedData.SamplesDirectory, "*.JPEG");
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();

        Parallel.ForEach(photos, () => new float[Preprocessor.TensorLength], (path, _, tensor) =>
        {
            try
            {
                Preprocessor.Preprocess(File.ReadAllBytes(path), tensor, Path.GetFileName(path));
            }
            catch (ImageDecodeException exception)
            {
                failures.Add($"{Path.GetFileName(path)}: {exception.Message}");
            }

            return tensor;
        }, _ => { });

        Assert.Equal(1000, photos.Length);
        Assert.Empty(failures);
    }

    [Fact]
    public void Cmyk_jpeg_is_a_valid_image_with_goldfish_colours()
    {
        var tensor = new float[Preprocessor.TensorLength];

        var result = Preprocessor.Preprocess(File.ReadAllBytes(SharedData.BadInput("cmyk.jpg")), tensor);

        Assert.Equal((376, 263), (result.Width, result.Height));
        Assert.Equal("JPEG", result.Format);
        // A goldfish photo converted correctly is dominated by warm colours: mean red above mean blue.
        // An uninverted Adobe CMYK conversion would give a near-negative image instead.
        var (red, _, blue) = ChannelMeans(tensor, PreprocessSpec.ImageNet(Resolution));
        Assert.True(red > blue, $"mean red {red:F1} should exceed mean blue {blue:F1}");
    }

    [Fact]
    public void Grayscale_jpeg_becomes_three_equal_channels()
    {
        var spec = PreprocessSpec.ImageNet(Resolution);
        var tensor = new float[spec.TensorLength];

        var result = Preprocessor.Preprocess(File.ReadAllBytes(SharedData.Sample("n02096051_Airedale.JPEG")), tensor);

        Assert.True(result.Width > 0 && result.Height > 0);
        var plane = Resolution * Resolution;
        for (var i = 0; i < plane; i++)
        {
            var red = Denormalise(tensor[i], spec, 0);
            Assert.Equal(red, Denormalise(tensor[plane + i], spec, 1));
            Assert.Equal(red, Denormalise(tensor[(2 * plane) + i], spec, 2));
        }
    }

    [Fact]
    public void Exif_orientation_is_applied_before_cropping()
    {
        // Stored 60 wide x 30 high, top half red, bottom half blue, tagged "rotate 90° clockwise" (6).
        // Shown upright it is 30 wide x 60 high, blue on the left and red on the right.
        using var stored = new Image<Rgb24>(60, 30);
        stored.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                rows.GetRowSpan(y).Fill(y < 15 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255));
            }
        });
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var encoded = new MemoryStream();
        stored.Save(encoded, new JpegEncoder { Quality = 95 });
        var spec = PreprocessSpec.ImageNet(Resolution);
        var tensor = new float[spec.TensorLength];

        var result = Preprocessor.Preprocess(encoded.ToArray(), tensor);

        Assert.Equal((30, 60), (result.Width, result.Height));
        var plane = Resolution * Resolution;
        var middleRow = Resolution / 2 * Resolution;
        var leftRed = Denormalise(tensor[middleRow + 2], spec, 0);
        var leftBlue = Denormalise(tensor[(2 * plane) + middleRow + 2], spec, 2);
        var rightRed = Denormalise(tensor[middleRow + Resolution - 3], spec, 0);
        Assert.True(leftBlue > 200 && leftRed < 50, $"left should be blue: R {leftRed}, B {leftBlue}");
        Assert.True(rightRed > 200, $"right should be red: R {rightRed}");
    }

    [Fact]
    public void Alpha_is_dropped_not_composited_like_cv2_imread()
    {
        // Fully transparent pixels keep their colour: cv2.imread(IMREAD_COLOR) ignores alpha.
        using var image = new Image<Rgba32>(20, 20, new Rgba32(10, 200, 90, 0));
        using var encoded = new MemoryStream();
        image.Save(encoded, new PngEncoder());
        var spec = PreprocessSpec.ImageNet(Resolution);
        var tensor = new float[spec.TensorLength];

        Preprocessor.Preprocess(encoded.ToArray(), tensor);

        var plane = Resolution * Resolution;
        Assert.Equal(10, Denormalise(tensor[0], spec, 0));
        Assert.Equal(200, Denormalise(tensor[plane], spec, 1));
        Assert.Equal(90, Denormalise(tensor[2 * plane], spec, 2));
    }

    [Fact]
    public void Normalisation_is_x_minus_mean_over_std_in_rgb_planes()
    {
        // A uniform image survives crop and resize unchanged, so every value is (x − mean) / std of its channel.
        using var image = new Image<Rgb24>(50, 40, new Rgb24(255, 128, 0));
        using var encoded = new MemoryStream();
        image.Save(encoded, new PngEncoder());
        var tensor = new float[Preprocessor.TensorLength];

        Preprocessor.Preprocess(encoded.ToArray(), tensor);

        var plane = Resolution * Resolution;
        Assert.All(tensor[..plane], value => Assert.Equal((255 - 123.675f) / 58.395f, value, 1e-6f));
        Assert.All(tensor[plane..(2 * plane)], value => Assert.Equal((128 - 116.28f) / 57.12f, value, 1e-6f));
        Assert.All(tensor[(2 * plane)..], value => Assert.Equal((0 - 103.53f) / 57.375f, value, 1e-6f));
    }

    [Fact]
    public void The_pixel_limit_is_configurable()
    {
        using var image = new Image<Rgb24>(20, 20);
        using var encoded = new MemoryStream();
        image.Save(encoded, new PngEncoder());
        var strict = new ImagePreprocessor(PreprocessSpec.ImageNet(Resolution), maxPixels: 399);

        var error = Assert.Throws<ImageDecodeException>(() => strict.Preprocess(encoded.ToArray(), new float[strict.TensorLength]));

        Assert.Equal(ImageDecodeErrorKind.TooLarge, error.Kind);
    }

    [Fact]
    public void A_jpeg_cut_anywhere_before_its_end_marker_is_reported_truncated()
    {
        var whole = File.ReadAllBytes(SharedData.Sample("n01440764_tench.JPEG"));
        foreach (var fraction in new[] { 0.05, 0.5, 0.99 })
        {
            var cut = whole[..(int)(whole.Length * fraction)];
            var error = Assert.Throws<ImageDecodeException>(() => Preprocessor.Preprocess(cut, new float[Preprocessor.TensorLength]));
            Assert.Equal(ImageDecodeErrorKind.Corrupt, error.Kind);
        }

        // Bytes appended after the end marker (some cameras do this) are not truncation.
        var padded = whole.Concat(new byte[] { 0, 0, 0, 0 }).ToArray();
        Preprocessor.Preprocess(padded, new float[Preprocessor.TensorLength]);
    }

    [Fact]
    public async Task Stream_input_gives_the_same_tensor_as_bytes()
    {
        var bytes = File.ReadAllBytes(SharedData.Sample("n01443537_goldfish.JPEG"));
        var fromBytes = new float[Preprocessor.TensorLength];
        var fromStream = new float[Preprocessor.TensorLength];
        Preprocessor.Preprocess(bytes, fromBytes);

        await using var stream = new NonSeekableStream(new MemoryStream(bytes), maxRead: 4096);
        var result = await Preprocessor.PreprocessAsync(stream, fromStream);

        Assert.Equal(fromBytes, fromStream);
        Assert.Equal(CenterCrop.Compute(result.Height, result.Width, Resolution), result.Crop);
    }

    [Fact]
    public void A_too_small_destination_is_rejected()
    {
        var bytes = File.ReadAllBytes(SharedData.Sample("n01443537_goldfish.JPEG"));

        Assert.Throws<ArgumentException>(() => Preprocessor.Preprocess(bytes, new float[Preprocessor.TensorLength - 1]));
    }

    [Fact]
    public void One_instance_preprocesses_concurrently_with_identical_results()
    {
        var files = Directory.EnumerateFiles(SharedData.SamplesDirectory, "*.JPEG").Order(StringComparer.Ordinal).Take(8)
            .Select(File.ReadAllBytes).ToArray();
        var expected = files.Select(bytes =>
        {
            var tensor = new float[Preprocessor.TensorLength];
            Preprocessor.Preprocess(bytes, tensor);
            return tensor;
        }).ToArray();

        Parallel.For(0, 64, i =>
        {
            var tensor = new float[Preprocessor.TensorLength];
            Preprocessor.Preprocess(files[i % files.Length], tensor);
            Assert.Equal(expected[i % files.Length], tensor);
        });
    }

    private static int Denormalise(float value, PreprocessSpec spec, int channel) =>
        (int)MathF.Round((value * spec.StdRgb[channel]) + spec.MeanRgb[channel]);

    private static (double Red, double Green, double Blue) ChannelMeans(float[] tensor, PreprocessSpec spec)
    {
        var plane = spec.Resolution * spec.Resolution;
        double Mean(int channel) => tensor.Skip(channel * plane).Take(plane).Average(v => Denormalise(v, spec, channel));
        return (Mean(0), Mean(1), Mean(2));
    }
}
