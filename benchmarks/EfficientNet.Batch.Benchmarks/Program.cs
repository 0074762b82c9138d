using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using EfficientNet.Batch.Simulation;

// dotnet run -c Release --project benchmarks/EfficientNet.Batch.Benchmarks -- --filter '*'
// dotnet run -c Release --project benchmarks/EfficientNet.Batch.Benchmarks -- incremental-plan 1000000 0.01 [unsorted]
// dotnet run -c Release --project benchmarks/EfficientNet.Batch.Benchmarks -- decode-rates ../shared/data/imagenet-samples 300 3
// dotnet run -c Release --project benchmarks/EfficientNet.Batch.Benchmarks -- jpeg-decoders ../shared/data/imagenet-samples 300 3
EfficientNet.Batch.Inference.OnnxRuntimeTelemetry.OptOut();

if (args is ["incremental-plan", ..])
{
    // The coordinator's side of an incremental re-score on simulated storage (images exist only as listing entries).
    var images = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    var fraction = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 0;
    var step = fraction > 0 ? (int)Math.Round(1 / fraction) : int.MaxValue;
    var changed = Enumerable.Range(0, images).Where(i => i % step == step / 2).ToList();
    // "unsorted": today's listing in a manifest's order (its second half first), so the planner cannot join it as it
    // streams: it compares on local disk (a baseline past IncrementalPlanner.InMemoryBaselineLimit), or in memory.
    Func<IEnumerable<int>, IEnumerable<int>>? order = args is [_, _, _, "unsorted", ..]
        ? all => [.. all.Where(i => i >= images / 2), .. all.Where(i => i < images / 2)]
        : null;
    var result = await IncrementalScenario.RunAsync(new SimulatedStorage(images), changed, CancellationToken.None, order: order);
    Console.WriteLine(
        $"images {result.Images:N0}, changed {changed.Count:N0}: classified {result.Classified:N0}, reused {result.Reused:N0}, " +
        $"image reads {result.ImageReads}, prediction lines {result.PredictionLines:N0}, change lines {result.ChangeLines:N0}, " +
        $"baseline {result.Comparison switch { EfficientNet.Batch.Components.Incremental.BaselineComparison.Joined => "joined as listed", EfficientNet.Batch.Components.Incremental.BaselineComparison.InMemory => "compared in memory", _ => "partitioned on local disk" }}");
    Console.WriteLine(
        $"listing and planning {result.Planning.TotalSeconds:F2} s, merge {result.Merging.TotalSeconds:F2} s, " +
        $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024):N0} MiB");
    return;
}

if (args is ["decode-rates", ..]) { EfficientNet.Batch.Benchmarks.DecodeRatesBenchmark.Run(args[1..]); return; }

if (args is ["jpeg-decoders", ..]) { EfficientNet.Batch.Benchmarks.JpegDecodersBenchmark.Run(args[1..]); return; }

if (args is ["output-formats", ..]) { await EfficientNet.Batch.Benchmarks.OutputFormatsBenchmark.RunAsync(args[1..]); return; }

BenchmarkSwitcher.FromAssembly(typeof(EfficientNet.Batch.Benchmarks.PreprocessingBenchmarks).Assembly).Run(args);
