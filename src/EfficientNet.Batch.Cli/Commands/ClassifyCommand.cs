using System.CommandLine;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet classify IMAGE...</c>: classify a few local files and print the top-k classes.</summary>
internal static class ClassifyCommand
{
    public static Command Create(Option<string?> models)
    {
        var images = new Argument<string[]>("IMAGE") { Description = "Image files.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model", "-m") { Description = "Model id (see `effnet models list`).", Required = true };
        var top = new Option<int>("--top", "-k") { Description = "Classes shown per image.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "One JSON object per image per line." };
        var randomWeights = new Option<bool>("--random-weights") { Description = "Use deterministic UNTRAINED weights." };
        var seed = new Option<int>("--seed") { Description = "Seed of --random-weights.", DefaultValueFactory = _ => 0 };

        var command = new Command("classify", "Classify image files.") { images, model, top, json, randomWeights, seed };
        command.SetAction((parse, ct) => ClassifyAsync(
            parse.GetRequiredValue(images),
            parse.GetRequiredValue(model),
            parse.GetValue(top),
            parse.GetValue(json),
            parse.GetValue(randomWeights),
            parse.GetValue(seed),
            parse.GetValue(models),
            ct));
        return command;
    }

    private static async Task<int> ClassifyAsync(
        string[] paths, string model, int top, bool json, bool randomWeights, int seed, string? modelsDirectory, CancellationToken cancellationToken)
    {
        // A zoo model, or a custom model imported into the store (`effnet models import … --classes`).
        if (await new ModelStore(ModelStoreLocation.Resolve(modelsDirectory)).FindAsync(model, cancellationToken) is not { Variant: var variant })
        {
            Console.Error.WriteLine($"error: unknown model '{model}'. See `effnet models list`.");
            return ExitCodes.InvalidArguments;
        }

        if (top is < 1 or > JobSpecValidator.MaxTopK)
        {
            Console.Error.WriteLine($"error: --top must be between 1 and {JobSpecValidator.MaxTopK}.");
            return ExitCodes.InvalidArguments;
        }

        // A missing or unreadable file is the image's error record; a folder is a mistake in the command.
        if (paths.FirstOrDefault(Directory.Exists) is { } folder)
        {
            Console.Error.WriteLine($"error: {folder} is a folder; classify takes image files. To label a folder, use `effnet run {folder} --model {model} --out DIR`.");
            return ExitCodes.InvalidArguments;
        }

        if (randomWeights)
        {
            Console.Error.WriteLine($"warning: {variant.Id} runs with UNTRAINED random weights (seed {seed}); the labels are meaningless.");
        }

        var builder = CliHost.CreateBuilder(modelsDirectory, new Dictionary<string, string?>());
        builder.AddWorkerComponents();
        using var host = builder.Build();
        if (await WeightsOnFirstUse.EnsureAsync(host.Services.GetRequiredService<ModelStore>(), variant.Id, randomWeights, seed, cancellationToken) is { } exitCode)
        {
            return exitCode;
        }

        var classifier = host.Services.GetRequiredService<ImageBatchClassifier>();
        var inputs = paths.Select(p => ImageInput.FromFile(p)).ToList();

        ClassificationRun run;
        try
        {
            if (!randomWeights)
            {
                WeightsOnFirstUse.WarnIfUntrained(
                    await host.Services.GetRequiredService<ModelStore>().ResolveAsync(variant.Id, null, cancellationToken), variant.Id, randomWeights);
            }

            run = await classifier.ClassifyAsync(new ModelRef(variant.Id, randomWeights, seed), inputs, top, null, cancellationToken);
        }
        catch (Exception e) when (e is ModelNotAvailableException or ModelHashMismatchException)
        {
            CliErrors.Report(e.Message, e);
            return ExitCodes.ModelUnavailable;
        }

        foreach (var record in run.Records)
        {
            if (json)
            {
                Console.Out.WriteLine(PredictionWriter.ToJsonLine(record));
            }
            else if (record.IsError)
            {
                Console.Out.WriteLine($"{record.Path}: error ({record.ErrorKind}): {record.Error}");
            }
            else
            {
                Console.Out.WriteLine($"{record.Path}:");
                foreach (var (c, rank) in record.Top!.Select((c, i) => (c, i + 1)))
                {
                    Console.Out.WriteLine($"  {rank}. {c.Name} (class {c.Index}) {c.Probability:P2}");
                }
            }
        }

        return run.Failed == 0 ? ExitCodes.Ok : ExitCodes.CompletedWithErrors;
    }
}
