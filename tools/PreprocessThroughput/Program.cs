using System.Diagnostics;
using EfficientNet.Batch.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

// Files are read into memory first: this measures decode + crop + resize + normalise, not disk I/O.
var samples = args.Length > 0 ? args[0] : FindSamples();
var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200;
var resolution = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 224;
var files = Directory.EnumerateFiles(samples, "*.JPEG").Order(StringComparer.Ordinal).Take(count).Select(File.ReadAllBytes).ToArray();
var preprocessor = new ImagePreprocessor(PreprocessSpec.ImageNet(resolution));
var tensor = new float[preprocessor.TensorLength];
var singleThreaded = Configuration.Default.Clone();
singleThreaded.MaxDegreeOfParallelism = 1;

foreach (var bytes in files.Take(20))
{
    preprocessor.Preprocess(bytes, tensor); // JIT and pool warm-up
}

var decodeOnly = Measure(() =>
{
    foreach (var bytes in files)
    {
        using var image = Image.Load<Rgb24>(singleThreaded, bytes);
    }
});
var full = Measure(() =>
{
    foreach (var bytes in files)
    {
        preprocessor.Preprocess(bytes, tensor);
    }
});

Console.WriteLine($"{files.Length} images, R = {resolution}, one thread");
Console.WriteLine($"ImageSharp decode only : {files.Length / decodeOnly.TotalSeconds,7:F1} images/s ({decodeOnly.TotalMilliseconds / files.Length:F2} ms/image)");
Console.WriteLine($"full preprocess        : {files.Length / full.TotalSeconds,7:F1} images/s ({full.TotalMilliseconds / files.Length:F2} ms/image)");

static TimeSpan Measure(Action action)
{
    var best = TimeSpan.MaxValue;
    for (var run = 0; run < 3; run++)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        action();
        best = watch.Elapsed < best ? watch.Elapsed : best;
        // CPU time close to wall time confirms the measurement used one core.
        Console.WriteLine($"  run {run}: wall {watch.Elapsed.TotalMilliseconds:F0} ms, cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms");
    }

    return best;
}

static string FindSamples()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        var candidate = Path.Combine(directory.FullName, "shared", "data", "imagenet-samples");
        if (Directory.Exists(candidate))
        {
            return candidate;
        }
    }

    throw new DirectoryNotFoundException("shared/data/imagenet-samples not found; pass the folder as the first argument.");
}
