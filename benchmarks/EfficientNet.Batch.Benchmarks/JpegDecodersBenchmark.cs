using System.Globalization;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Benchmarks;

/// <summary>
/// ImageSharp against libjpeg-turbo on the same JPEGs, one thread, interleaved photo by photo: decoding alone (header
/// checks, decode to upright RGB) and the whole preprocessing at b0's resolution (decode, crop, resize, normalise), as
/// <c>effnet bench</c>'s stage (a) runs it. Feeds docs/benchmarks.md, "JPEG decoding: libjpeg-turbo".
/// <c>jpeg-decoders [IMAGES_DIR] [COUNT] [ROUNDS]</c>; needs libturbojpeg0.
/// </summary>
internal static class JpegDecodersBenchmark
{
    public static void Run(string[] args)
    {
        var folder = args.Length > 0 ? args[0] : "../shared/data/imagenet-samples";
        var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var photos = InterleavedTiming.ReadPhotos(folder, count, ".jpeg", ".jpg");
        var b0 = ModelCatalogue.All.First(v => v.Arch == "b0");
        var spec = new PreprocessSpec(b0.Resolution, b0.Mean, b0.Std);
        var imageSharp = new ImagePreprocessor(spec, jpegDecoder: JpegDecoderKind.ImageSharp);
        var turbo = new ImagePreprocessor(spec, jpegDecoder: JpegDecoderKind.TurboJpeg);
        var tensor = new float[spec.TensorLength];
        (string Name, Action<byte[]> Run)[] ways =
        [
            ("decode, ImageSharp", bytes => imageSharp.DecodeWithImageSharp(bytes).Dispose()),
            ("decode, libjpeg-turbo", bytes => turbo.DecodeWithTurboJpeg(bytes)?.Dispose()),
            ($"preprocess at {b0.Resolution}, ImageSharp", bytes => imageSharp.Preprocess(bytes, tensor)),
            ($"preprocess at {b0.Resolution}, libjpeg-turbo", bytes => turbo.Preprocess(bytes, tensor)),
        ];
        var actions = ways.Select(w => w.Run).ToList();

        // Warm-up: every code path compiled (and, with tiered compilation, promoted) before the clock runs.
        InterleavedTiming.Pass(photos.Take(Math.Min(50, photos.Count)).ToList(), actions);

        var rates = ways.Select(_ => new List<double>()).ToList();
        var speedUps = new[] { new List<double>(), new List<double>() };
        for (var round = 0; round < rounds; round++)
        {
            var seconds = InterleavedTiming.Pass(photos, actions);
            for (var i = 0; i < ways.Length; i++)
            {
                rates[i].Add(photos.Count / seconds[i]);
            }

            speedUps[0].Add(seconds[0] / seconds[1]);
            speedUps[1].Add(seconds[2] / seconds[3]);
            Console.Error.WriteLine($"round {round + 1}/{rounds}: " + string.Join(", ", ways.Select((w, i) => $"{w.Name} {rates[i][^1]:F0}")));
        }

        Console.WriteLine($"{photos.Count} JPEGs from {folder}, one thread, {rounds} rounds (medians), {Environment.ProcessorCount} cores, load average {InterleavedTiming.LoadAverage()}");
        Console.WriteLine("stage                              images/s per core  libjpeg-turbo / ImageSharp");
        for (var i = 0; i < ways.Length; i++)
        {
            var speedUp = i % 2 == 1 ? $"{InterleavedTiming.Median(speedUps[i / 2]),26:F2}x" : string.Empty;
            Console.WriteLine($"{ways[i].Name,-34} {InterleavedTiming.Median(rates[i]),17:F1}{speedUp}");
        }
    }
}
