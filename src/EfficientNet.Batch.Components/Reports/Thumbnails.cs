using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
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
        var rows = ArrayPool<float>.Shared.Rent(size * resolution);
        var pixels = ArrayPool<byte>.Shared.Rent(size * size * Channels);
        try
        {
            for (var channel = 0; channel < Channels; channel++)
            {
                var source = chw.Slice(channel * plane, plane);
                // Vertical pass first, on whole rows (vectorised): `resolution` rows to `size`.
                for (var y = 0; y < size; y++)
                {
                    var row = rows.AsSpan(y * resolution, resolution);
                    row.Clear();
                    var first = filter.First[y];
                    var weights = filter.Weights[y];
                    for (var tap = 0; tap < weights.Length; tap++)
                    {
                        AddScaled(source.Slice((first + tap) * resolution, resolution), weights[tap], row);
                    }
                }

                // Horizontal pass on the `size` rows left, then back to pixel values: area averaging is linear, so
                // un-normalising the averages equals averaging the pixels.
                float scale = std[channel], offset = mean[channel];
                for (var y = 0; y < size; y++)
                {
                    var row = rows.AsSpan(y * resolution, resolution);
                    var destination = pixels.AsSpan(y * size * Channels, size * Channels);
                    for (var x = 0; x < size; x++)
                    {
                        var weights = filter.Weights[x];
                        var input = row.Slice(filter.First[x], weights.Length);
                        var sum = 0f;
                        for (var tap = 0; tap < weights.Length; tap++)
                        {
                            sum += weights[tap] * input[tap];
                        }

                        destination[(x * Channels) + channel] = (byte)Math.Clamp(MathF.Round((sum * scale) + offset), 0f, 255f);
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
            ArrayPool<float>.Shared.Return(rows);
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    /// <summary><paramref name="destination"/> += <paramref name="weight"/> · <paramref name="source"/>.</summary>
    private static void AddScaled(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var scale = new Vector<float>(weight);
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(destination[i..]) + (new Vector<float>(source[i..]) * scale)).CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] += weight * source[i];
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
    }
}
