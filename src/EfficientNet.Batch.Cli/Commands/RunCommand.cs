using System.CommandLine;
using System.Diagnostics;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet run</c>: the embedded default. Coordinator and worker in one process, on MassTransit's in-memory
/// transport and the local file system; the very same services run distributed over RabbitMQ and Azure Blob.</summary>
internal static class RunCommand
{
    public static Command Create(Option<string?> models)
    {
        var dataset = new Argument<string>("DATASET") { Description = "Folder of images, or a manifest (.txt/.csv: path[,label] per line)." };
        var model = new Option<string>("--model", "-m") { Description = "Model id (see `effnet models list`).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder for predictions.jsonl and summary.json.", Required = true };
        var options = new JobOptions();

        var command = new Command("run", "Label a dataset on this machine (no servers needed).") { dataset, model, output };
        options.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(
            parse.GetRequiredValue(dataset),
            parse.GetRequiredValue(model),
            parse.GetRequiredValue(output),
            options.Read(parse),
            parse.GetValue(models),
            ct));
        return command;
    }

    private static async Task<int> RunAsync(string dataset, string model, string output, JobOptionValues values, string? modelsDirectory, CancellationToken cancellationToken)
    {
        var outputDirectory = Path.GetFullPath(output);
        Directory.CreateDirectory(outputDirectory);
        var builder = CliHost.CreateBuilder(modelsDirectory, new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = nameof(MessagingTransport.InMemory),
            ["Coordinator:StateLocation"] = Path.Combine(outputDirectory, ".effnet-state"),
            ["Coordinator:OutputLocation"] = outputDirectory,
            ["Inference:BatchSize"] = values.BatchSize?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Worker:DecodeParallelism"] = values.DecodeThreads?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.AddCoordinatorComponents();
        builder.AddWorkerComponents();
        builder.AddBatchBus(bus =>
        {
            bus.AddCoordinatorConsumers();
            bus.AddWorkerConsumers();
        });

        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var spec = new JobSpec
            {
                Dataset = dataset,
                Model = model,
                Output = outputDirectory,
                ShardSize = values.ShardSize,
                TopK = values.TopK,
                RandomWeights = values.RandomWeights,
                Seed = values.Seed,
            };
            return await RunJobAsync(host.Services, spec, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<int> RunJobAsync(IServiceProvider services, JobSpec spec, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var scope = services.CreateAsyncScope();
        var coordinator = scope.ServiceProvider.GetRequiredService<JobCoordinator>();
        JobRecord record;
        try
        {
            record = await coordinator.SubmitAsync(NewId.NextGuid(), spec, cancellationToken);
        }
        catch (JobValidationException e)
        {
            foreach (var error in e.Errors)
            {
                Console.Error.WriteLine($"error: {error}");
            }

            return ExitCodes.InvalidArguments;
        }

        if (spec.RandomWeights)
        {
            Console.Error.WriteLine($"warning: {spec.Model} runs with UNTRAINED random weights (seed {spec.Seed}); the labels are meaningless. Import real weights with `effnet models import`.");
        }

        // Load the model before the progress display starts, so its messages (and any error) come first.
        var models = scope.ServiceProvider.GetRequiredService<ModelStore>();
        if (await WeightsOnFirstUse.EnsureAsync(models, spec.Model, spec.RandomWeights, spec.Seed, cancellationToken) is { } exitCode)
        {
            return exitCode;
        }

        try
        {
            var resolved = await models.ResolveAsync(spec.Model, spec.RandomWeights ? spec.Seed : null, cancellationToken);
            scope.ServiceProvider.GetRequiredService<EfficientNet.Batch.Inference.ModelSessionCache>().Get(resolved.OnnxPath);
        }
        catch (ModelNotAvailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.ModelUnavailable;
        }

        await coordinator.DispatchAsync(record.JobId, cancellationToken);
        var progress = scope.ServiceProvider.GetRequiredService<ClassificationProgress>();
        var final = await ProgressDisplay.WaitAsync(coordinator, progress, record.JobId, cancellationToken);

        if (final.Status == JobStatus.Failed)
        {
            Console.Error.WriteLine($"error: job {final.JobId} failed: {final.Error}");
            return ExitCodes.JobFailed;
        }

        var summaryPath = Path.Combine(final.Output, ResultMerger.SummaryName);
        AnsiConsole.MarkupLine($"[green]Done[/] in {stopwatch.Elapsed.TotalSeconds:F1} s: {final.ImagesOk} images classified, {final.ImagesFailed} errors ({final.ImagesOk + final.ImagesFailed} lines).");
        AnsiConsole.MarkupLine($"Predictions: [blue]{Markup.Escape(Path.Combine(final.Output, ResultMerger.PredictionsName))}[/]");
        AnsiConsole.MarkupLine($"Summary:     [blue]{Markup.Escape(summaryPath)}[/]");
        SummaryPrinter.Print(summaryPath);
        return final.Status == JobStatus.Completed ? ExitCodes.Ok : ExitCodes.CompletedWithErrors;
    }
}
