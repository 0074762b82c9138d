using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Components.Tests.Reports;

public sealed class ThumbnailsTests
{
    private static readonly Rgb24[] Quadrants = [new(200, 30, 40), new(20, 180, 60), new(40, 60, 210), new(235, 230, 220)];

    [Theory]
    [InlineData(224, 96)] // b0: 2.33 source pixels per thumbnail pixel
    [InlineData(300, 64)] // b3 at another size: 4.69
    [InlineData(64, 96)]  // smaller than the thumbnail: upscaled
    public void A_thumbnail_is_a_JPEG_of_the_requested_size_with_the_tensor_s_colours_where_they_were(int resolution, int size)
    {
        // Four coloured quadrants (top-left red, top-right green, bottom-left blue, bottom-right white): a swapped axis
        // or channel, or a wrong un-normalisation, moves or changes a colour.
        var spec = PreprocessSpec.ImageNet(resolution);
        var rgb = new byte[resolution * resolution * 3];
        for (var y = 0; y < resolution; y++)
        {
            for (var x = 0; x < resolution; x++)
            {
                var colour = Quadrants[((y * 2 / resolution) * 2) + (x * 2 / resolution)];
                var i = ((y * resolution) + x) * 3;
                (rgb[i], rgb[i + 1], rgb[i + 2]) = (colour.R, colour.G, colour.B);
            }
        }

        var tensor = new float[spec.TensorLength];
        new ImagePreprocessor(spec).Normalise(rgb, tensor);

        var thumbnail = Thumbnails.FromTensor(tensor, resolution, spec.MeanRgb, spec.StdRgb, size);

        using var image = Image.Load<Rgb24>(Convert.FromBase64String(thumbnail));
        Assert.Equal((size, size), (image.Width, image.Height));
        var margin = size / 8; // JPEG's 4:2:0 chroma blurs the edges between quadrants
        for (var quadrant = 0; quadrant < 4; quadrant++)
        {
            var left = quadrant % 2 * size / 2;
            var top = quadrant / 2 * size / 2;
            AssertColour(Quadrants[quadrant], MeanColour(image, left + margin, top + margin, (size / 2) - (2 * margin)), tolerance: 8, $"quadrant {quadrant}");
        }

        var expected = new Rgb24(
            (byte)Quadrants.Average(c => c.R), (byte)Quadrants.Average(c => c.G), (byte)Quadrants.Average(c => c.B));
        AssertColour(expected, MeanColour(image, 0, 0, size), tolerance: 4, "whole image");
    }

    [Fact]
    public void A_photo_s_thumbnail_has_the_mean_colour_of_what_the_model_saw()
    {
        var spec = PreprocessSpec.ImageNet(224);
        var tensor = new float[spec.TensorLength];
        new ImagePreprocessor(spec).Preprocess(File.ReadAllBytes(TestData.FirstPhotos(1)[0]), tensor);
        var plane = 224 * 224;
        var source = new double[3];
        for (var channel = 0; channel < 3; channel++)
        {
            source[channel] = tensor.AsSpan(channel * plane, plane).ToArray().Average(v => (v * spec.StdRgb[channel]) + spec.MeanRgb[channel]);
        }

        using var image = Image.Load<Rgb24>(Convert.FromBase64String(Thumbnails.FromTensor(tensor, 224, spec.MeanRgb, spec.StdRgb)));
        var mean = MeanColour(image, 0, 0, 96);

        Assert.Equal((96, 96), (image.Width, image.Height));
        Assert.InRange(mean.R, source[0] - 3, source[0] + 3);
        Assert.InRange(mean.G, source[1] - 3, source[1] + 3);
        Assert.InRange(mean.B, source[2] - 3, source[2] + 3);
    }

    [Fact]
    public void A_tensor_too_short_for_its_resolution_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Thumbnails.FromTensor(new float[3 * 10 * 10], 11, [0f, 0f, 0f], [1f, 1f, 1f]));

        Assert.Contains("363 floats", error.Message, StringComparison.Ordinal);
    }

    private static (double R, double G, double B) MeanColour(Image<Rgb24> image, int left, int top, int side)
    {
        double r = 0, g = 0, b = 0;
        for (var y = top; y < top + side; y++)
        {
            for (var x = left; x < left + side; x++)
            {
                var pixel = image[x, y];
                (r, g, b) = (r + pixel.R, g + pixel.G, b + pixel.B);
            }
        }

        var count = (double)side * side;
        return (r / count, g / count, b / count);
    }

    private static void AssertColour(Rgb24 expected, (double R, double G, double B) actual, int tolerance, string where) =>
        Assert.True(
            Math.Abs(expected.R - actual.R) <= tolerance && Math.Abs(expected.G - actual.G) <= tolerance && Math.Abs(expected.B - actual.B) <= tolerance,
            $"{where}: expected {expected}, got ({actual.R:0.0}, {actual.G:0.0}, {actual.B:0.0})");
}
