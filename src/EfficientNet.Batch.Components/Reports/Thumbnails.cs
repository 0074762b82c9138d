using System.Buffers;
using System.Collections.Concurrent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Components.Reports;

/// <summary>
/// The report's thumbnails, made from what the worker already decoded: the image's slot of the batch tensor, i.e. what
/// the model saw (the centre crop at the model's resolution). No image is read or decoded a second time.
/// </summary>
public static class Thumbnails
{
    private const int Channels = 3;

    private static readonly JpegEncoder Encoder = new() { Quality = ReportLimits.ThumbnailQuality, ColorType = JpegColorType.YCbCrRatio420 };
    private static readonly Configuration Configuration = CreateConfiguration();
    private static readonly ConcurrentDictionary<(int From, int To), AreaFilter> Filters = new();

    /// <summary>
    /// A <paramref name="size"/>² JPEG (base64) of one preprocessed image: <paramref name="chw"/> holds the R, G and B
    /// planes of <paramref name="resolution"/>² floats each, normalised as (pixel − mean) / std with
    /// <paramref name="mean"/> and <paramref name="std"/> in 0..255 units (the layout of
    /// <see cref="EfficientNet.Batch.Inference.ImagePreprocessor"/>). Downscaled by area averaging, which is exact for
    /// any ratio and needs no intermediate image.
    /// </summary>
    public static string FromTensor(
        ReadOnlySpan<float> chw, int resolution, IReadOnlyList<float> mean, IReadOnlyList<float> std, int size = ReportLimits.ThumbnailSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, 1024);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        var plane = resolution * resolution;
        if (chw.Length < Channels * plane)
        {
            throw new ArgumentException($"A {resolution}² image needs {Channels * plane} floats; got {chw.Length}.", nameof(chw));
        }

        if (mean.Count != Channels || std.Count != Channels)
        {
            throw new ArgumentException($"Mean and std need {Channels} values each (R, G, B); got {mean.Count} and {std.Count}.");
        }

        var filter = Filters.GetOrAdd((resolution, size), key => new AreaFilter(key.From, key.To));
        var columns = ArrayPool<float>.Shared.Rent(resolution * size);
        var pixels = ArrayPool<byte>.Shared.Rent(size * size * Channels);
        var row = ArrayPool<float>.Shared.Rent(size);
        try
        {
            for (var channel = 0; channel < Channels; channel++)
            {
                var source = chw.Slice(channel * plane, plane);
                // Horizontal pass: every source row to `size` columns.
                for (var y = 0; y < resolution; y++)
                {
                    filter.Apply(source.Slice(y * resolution, resolution), columns.AsSpan(y * size, size));
                }

                // Vertical pass, then back to pixel values: area averaging is linear, so un-normalising the averages
                // equals averaging the pixels.
                float scale = std[channel], offset = mean[channel];
                var sums = row.AsSpan(0, size);
                for (var y = 0; y < size; y++)
                {
                    sums.Clear();
                    var first = filter.First[y];
                    var weights = filter.Weights[y];
                    for (var tap = 0; tap < weights.Length; tap++)
                    {
                        var weight = weights[tap];
                        var input = columns.AsSpan((first + tap) * size, size);
                        for (var x = 0; x < size; x++)
                        {
                            sums[x] += weight * input[x];
                        }
                    }

                    var destination = pixels.AsSpan(y * size * Channels, size * Channels);
                    for (var x = 0; x < size; x++)
                    {
                        destination[(x * Channels) + channel] = (byte)Math.Clamp(MathF.Round((sums[x] * scale) + offset), 0f, 255f);
                    }
                }
            }

            using var image = Image.LoadPixelData<Rgb24>(Configuration, pixels.AsSpan(0, size * size * Channels), size, size);
            using var jpeg = new MemoryStream(capacity: 8 * 1024);
            image.SaveAsJpeg(jpeg, Encoder);
            return Convert.ToBase64String(jpeg.GetBuffer(), 0, (int)jpeg.Length);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(columns);
            ArrayPool<float>.Shared.Return(row);
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    private static Configuration CreateConfiguration()
    {
        var configuration = Configuration.Default.Clone();
        // One small image per call, on a decoder thread that is already one of several: no parallel split.
        configuration.MaxDegreeOfParallelism = 1;
        return configuration;
    }

    /// <summary>Box filter from <c>from</c> samples to <c>to</c>: output i averages the source interval
    /// [i·from/to, (i+1)·from/to), partly covered pixels weighted by their covered fraction.</summary>
    private sealed class AreaFilter
    {
        public AreaFilter(int from, int to)
        {
            First = new int[to];
            Weights = new float[to][];
            var scale = (double)from / to;
            for (var i = 0; i < to; i++)
            {
                double low = i * scale, high = Math.Min((i + 1) * scale, from);
                var first = Math.Min((int)Math.Floor(low), from - 1);
                var last = Math.Max(first, Math.Min((int)Math.Ceiling(high), from) - 1);
                var weights = new float[last - first + 1];
                for (var j = first; j <= last; j++)
                {
                    weights[j - first] = (float)((Math.Min(high, j + 1) - Math.Max(low, j)) / (high - low));
                }

                First[i] = first;
                Weights[i] = weights;
            }
        }

        public int[] First { get; }

        public float[][] Weights { get; }

        public void Apply(ReadOnlySpan<float> source, Span<float> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                var weights = Weights[i];
                var input = source.Slice(First[i], weights.Length);
                var sum = 0f;
                for (var tap = 0; tap < weights.Length; tap++)
                {
                    sum += weights[tap] * input[tap];
                }

                destination[i] = sum;
            }
        }
    }
}
