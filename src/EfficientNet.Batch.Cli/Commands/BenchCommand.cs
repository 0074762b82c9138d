using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.Components.Benchmarking;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet bench</c>: decode-only, inference-only and full-pipeline throughput of one model on this machine.</summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create(Option<string?> models)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model id (see `effnet models list`).", Required = true };
        var images = new Option<string>("--images") { Description = "Folder of sample images (cycled to reach --count).", Required = true };
        var count = new Option<int>("--count", "-n") { Description = "Images through the full pipeline.", DefaultValueFactory = _ => 1000 };
        var stageCount = new Option<int?>("--stage-count") { Description = "Images for the decode-only and inference-only stages (default: min(count, 1000))." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per inference batch (default: Inference:BatchSize)." };
        var randomWeights = new Option<bool>("--random-weights") { Description = "Use deterministic UNTRAINED weights." };
        var seed = new Option<int>("--seed") { Description = "Seed of --random-weights.", DefaultValueFactory = _ => 0 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved measurements of every stage; medians are reported.", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var intraOp = new Option<int?>("--intra-op-threads") { Description = "ONNX Runtime intra-op threads (default: Inference:IntraOpThreads)." };
        var decodeThreads = new Option<int?>("--decode-threads") { Description = "Parallel decoders (default: Worker:DecodeParallelism)." };
        var spinning = new Option<IntraOpSpinning?>("--intra-op-spinning")
        {
            Description = "When idle ONNX Runtime threads spin: Off, DuringRun or Always (default: Inference:IntraOpSpinning).",
        };

        var precision = new Option<InferencePrecision?>("--precision")
        {
            Description = "Float32 or Float16 (default: Inference:Precision); the plain session runs the same graph.",
        };

        var command = new Command("bench", "Measure decode, inference and pipeline throughput on this machine.")
        {
            model, images, count, stageCount, rounds, batchSize, randomWeights, seed, json, intraOp, decodeThreads, spinning, precision,
        };
        command.Subcommands.Add(BenchSystemCommand.Create());
        command.Subcommands.Add(BenchSystemCommand.CreateWorker());
        command.SetAction((parse, ct) => BenchAsync(
            new ThroughputBenchmarkSettings(
                parse.GetRequiredValue(model),
                parse.GetRequiredValue(images),
                parse.GetValue(count),
                parse.GetValue(randomWeights),
                parse.GetValue(seed),
                parse.GetValue(stageCount),
                parse.GetValue(rounds)),
            new Dictionary<string, string?>
            {
                ["Inference:BatchSize"] = Invariant(parse.GetValue(batchSize)),
                ["Inference:IntraOpThreads"] = Invariant(parse.GetValue(intraOp)),
                ["Inference:IntraOpSpinning"] = parse.GetValue(spinning)?.ToString(),
                ["Inference:Precision"] = parse.GetValue(precision)?.ToString(),
                ["Worker:DecodeParallelism"] = Invariant(parse.GetValue(decodeThreads)),
            },
            parse.GetValue(json),
            parse.GetValue(models),
            ct));
        return command;
    }

    private static string? Invariant(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static async Task<int> BenchAsync(
        ThroughputBenchmarkSettings settings, Dictionary<string, string?> configuration, bool json, string? modelsDirectory, CancellationToken cancellationToken)
    {
        if (!ModelCatalogue.TryGet(settings.ModelId, out _))
        {
            Console.Error.WriteLine($"error: unknown model '{settings.ModelId}'. See `effnet models list`.");
            return ExitCodes.InvalidArguments;
        }

        if (settings.Count < 1 || settings.StageCount < 1 || settings.Rounds < 1)
        {
            Console.Error.WriteLine("error: --count, --stage-count and --rounds must be at least 1.");
            return ExitCodes.InvalidArguments;
        }

        var builder = CliHost.CreateBuilder(modelsDirectory, configuration);
        builder.AddWorkerComponents();
        using var host = builder.Build();
        ThroughputBenchmark benchmark;
        try
        {
            // Options are validated here, so a bad --batch-size or thread count is reported, not thrown.
            _ = host.Services.GetRequiredService<IOptions<EfficientNet.Batch.Inference.InferenceOptions>>().Value;
            _ = host.Services.GetRequiredService<IOptions<Components.Workers.WorkerOptions>>().Value;
            benchmark = ActivatorUtilities.CreateInstance<ThroughputBenchmark>(host.Services);
        }
        catch (OptionsValidationException e)
        {
            CliErrors.Report(e.Message, e);
            return ExitCodes.InvalidArguments;
        }

        ThroughputReport report;
        try
        {
            report = await benchmark.RunAsync(settings, json ? Console.Error : Console.Out, cancellationToken);
        }
        catch (Exception e) when (e is ModelNotAvailableException or ModelHashMismatchException)
        {
            CliErrors.Report(e.Message, e);
            return ExitCodes.ModelUnavailable;
        }
        catch (Exception e) when (e is DirectoryNotFoundException or InvalidOperationException)
        {
            CliErrors.Report(e.Message, e);
            return ExitCodes.InvalidArguments;
        }

        Console.Out.WriteLine(json ? JsonSerializer.Serialize(report, Json) : Describe(report));
        return ExitCodes.Ok;
    }

    private static string Describe(ThroughputReport r) => string.Create(CultureInfo.InvariantCulture, $"""
        model {r.Model} ({r.Resolution}px, {r.MultiplyAddsPerImage / 1e9:F3} GMAC/image) on {r.ExecutionProvider} in {r.Precision}, batch {r.BatchSize}
        machine: {r.Cores} cores; medians of {r.Rounds} interleaved rounds; decode threads {r.DecodeThreads}, intra-op threads {(r.IntraOpThreads == 0 ? "ORT default" : r.IntraOpThreads)}, intra-op spinning {r.IntraOpSpinning}
        (a) decode + preprocess   {r.DecodeImagesPerSecond,8:F1} images/s  ({r.DecodeImagesPerSecondPerCore:F1} per core; {r.StageImages} images)
        (b) inference only        {r.InferenceImagesPerSecond,8:F1} images/s  ({r.InferenceMultiplyAddsPerSecond / 1e9:F1} GMAC/s)
            plain ORT session     {r.PlainInferenceImagesPerSecond,8:F1} images/s  ({r.PlainInferenceMultiplyAddsPerSecond / 1e9:F1} GMAC/s)
            tuned / plain         {r.InferenceSpeedupOverPlain,8:F3}  (median of paired rounds: {string.Join(", ", r.InferenceRatios.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))})
        combined limit 1/(1/a+1/b){r.CombinedLimitImagesPerSecond,8:F1} images/s
        (c) full pipeline         {r.PipelineImagesPerSecond,8:F1} images/s  ({r.PipelineMultiplyAddsPerSecond / 1e9:F1} GMAC/s; {r.Images} images from memory, {r.PipelineErrors} errors)
        pipeline efficiency c/limit {r.PipelineEfficiency:P1}; {r.PipelineAllocatedBytesPerImage:N0} managed bytes allocated per image, {r.PipelineGen2Collections} gen-2 GCs
        peak RSS {r.PeakRssBytes / 1048576.0:F0} MiB; pipeline RSS peak first 1000 images {r.FirstThousandPeakRssBytes / 1048576.0:F0} MiB, last 1000 {r.LastThousandPeakRssBytes / 1048576.0:F0} MiB
        """);
}
