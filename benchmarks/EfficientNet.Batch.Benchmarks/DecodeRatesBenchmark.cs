using System.Diagnostics;
using System.Globalization;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Benchmarks;

/// <summary>
/// Decode + preprocess images/s on one thread at the input resolution of each of b0 to b7: the work of
/// <c>effnet bench</c>'s stage (a) (<see cref="ImagePreprocessor.Preprocess"/> from bytes in memory), without its
/// inference stages, which take minutes per round for the large variants on a CPU. The resolutions are interleaved photo
/// by photo (the first resolution rotating), so that other work on a shared machine slows them alike and their ratios
/// stay comparable. Feeds docs/benchmarks.md, "GPU workers: the decode-bound arithmetic".
/// <c>decode-rates [IMAGES_DIR] [COUNT] [ROUNDS]</c>.
/// </summary>
internal static class DecodeRatesBenchmark
{
    private static readonly string[] Architectures = ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"];

    public static void Run(string[] args)
    {
        var folder = args.Length > 0 ? args[0] : "../shared/data/imagenet-samples";
        var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var photos = Directory.EnumerateFiles(folder)
            .Where(f => f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Take(count)
            .Select(File.ReadAllBytes)
            .ToList();
        var variants = Architectures.Select(a => ModelCatalogue.All.First(v => v.Arch == a)).ToList();
        var preprocessors = variants.Select(v => new ImagePreprocessor(new PreprocessSpec(v.Resolution, v.Mean, v.Std))).ToList();
        var tensors = preprocessors.Select(p => new float[p.TensorLength]).ToList();

        // Warm-up: every code path compiled (and, with tiered compilation, promoted) before the clock runs.
        Pass(photos.Take(Math.Min(50, photos.Count)).ToList(), preprocessors, tensors);

        var rates = variants.Select(_ => new List<double>()).ToList();
        var ratios = variants.Select(_ => new List<double>()).ToList();
        for (var round = 0; round < rounds; round++)
        {
            var seconds = Pass(photos, preprocessors, tensors);
            for (var i = 0; i < variants.Count; i++)
            {
                rates[i].Add(photos.Count / seconds[i]);
                ratios[i].Add(seconds[0] / seconds[i]);
            }

            Console.Error.WriteLine($"round {round + 1}/{rounds}: " + string.Join(", ", variants.Select((v, i) => $"{v.Arch} {rates[i][^1]:F0}")));
        }

        Console.WriteLine($"{photos.Count} photos from {folder}, one thread, {rounds} rounds (medians), {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine("arch  R    images/s per core  relative to b0");
        for (var i = 0; i < variants.Count; i++)
        {
            Console.WriteLine($"{variants[i].Arch,-5} {variants[i].Resolution,-4} {Median(rates[i]),17:F1}  {Median(ratios[i]),14:F3}");
        }
    }

    /// <summary>Seconds spent preprocessing all <paramref name="photos"/> at each resolution.</summary>
    private static double[] Pass(List<byte[]> photos, List<ImagePreprocessor> preprocessors, List<float[]> tensors)
    {
        var ticks = new long[preprocessors.Count];
        for (var p = 0; p < photos.Count; p++)
        {
            for (var k = 0; k < preprocessors.Count; k++)
            {
                var i = (p + k) % preprocessors.Count;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    preprocessors[i].Preprocess(photos[p], tensors[i]);
                }
                catch (ImageDecodeException)
                {
                    // As in the bench: a photo that does not decode costs what it cost.
                }

                ticks[i] += Stopwatch.GetTimestamp() - started;
            }
        }

        return [.. ticks.Select(t => (double)t / Stopwatch.Frequency)];
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
