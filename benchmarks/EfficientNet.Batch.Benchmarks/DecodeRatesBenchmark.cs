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
        var photos = InterleavedTiming.ReadPhotos(folder, count, ".jpeg", ".jpg", ".png");
        var variants = Architectures.Select(a => ModelCatalogue.All.First(v => v.Arch == a)).ToList();
        var preprocessors = variants.Select(v => new ImagePreprocessor(new PreprocessSpec(v.Resolution, v.Mean, v.Std))).ToList();
        var ways = preprocessors.Select(p => (p, tensor: new float[p.TensorLength])).Select(w => (Action<byte[]>)(bytes => w.p.Preprocess(bytes, w.tensor))).ToList();

        // Warm-up: every code path compiled (and, with tiered compilation, promoted) before the clock runs.
        InterleavedTiming.Pass(photos.Take(Math.Min(50, photos.Count)).ToList(), ways);

        var rates = variants.Select(_ => new List<double>()).ToList();
        var ratios = variants.Select(_ => new List<double>()).ToList();
        for (var round = 0; round < rounds; round++)
        {
            var seconds = InterleavedTiming.Pass(photos, ways);
            for (var i = 0; i < variants.Count; i++)
            {
                rates[i].Add(photos.Count / seconds[i]);
                ratios[i].Add(seconds[0] / seconds[i]);
            }

            Console.Error.WriteLine($"round {round + 1}/{rounds}: " + string.Join(", ", variants.Select((v, i) => $"{v.Arch} {rates[i][^1]:F0}")));
        }

        Console.WriteLine($"{photos.Count} photos from {folder}, one thread, {rounds} rounds (medians), {Environment.ProcessorCount} cores, load average {InterleavedTiming.LoadAverage()}, JPEGs decoded by {preprocessors[0].JpegDecoder}");
        Console.WriteLine("arch  R    images/s per core  relative to b0");
        for (var i = 0; i < variants.Count; i++)
        {
            Console.WriteLine($"{variants[i].Arch,-5} {variants[i].Resolution,-4} {InterleavedTiming.Median(rates[i]),17:F1}  {InterleavedTiming.Median(ratios[i]),14:F3}");
        }
    }
}
