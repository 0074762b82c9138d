using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Checkpoints;
using EfficientNet.Batch.Models.Download;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet models list|import|pull|export</c>: the zoo and the local model store. Argument handling and
/// printing only; the work is done by the Models project's services.</summary>
internal static class ModelsCommand
{
    /// <summary>A file or download that was read but refused: wrong keys or shapes, unsafe pickle, unloadable ONNX.
    /// (Candidate for <see cref="ExitCodes"/>.)</summary>

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static Command Create(Option<string?> models)
    {
        var command = new Command("models", "List, download, import and export models.");
        command.Subcommands.Add(List(models));
        command.Subcommands.Add(Import(models));
        command.Subcommands.Add(Pull(models));
        command.Subcommands.Add(Export(models));
        command.Subcommands.Add(Publish(models));
        return command;
    }

    /// <summary><c>effnet models publish ID --to LOCATION</c>: upload a stored model to the shared store that
    /// distributed workers read (their <c>Models:RemoteLocation</c>).</summary>
    private static Command Publish(Option<string?> models)
    {
        var id = new Argument<string>("ID") { Description = "Model id with imported weights in the local store." };
        var to = new Option<string>("--to") { Description = "Shared model store location, e.g. az://effnet-models (account from $AZURE_STORAGE_CONNECTION_STRING).", Required = true };
        var command = new Command("publish", "Upload a stored model to the shared store that distributed workers use.") { id, to };
        command.SetAction((parse, ct) => ReportingErrorsAsync(async () =>
        {
            var modelId = ModelStore.StoredId(parse.GetRequiredValue(id));
            var builder = CliHost.CreateBuilder(parse.GetValue(models), new Dictionary<string, string?> { ["Models:RemoteLocation"] = parse.GetRequiredValue(to) });
            builder.AddStorage();
            builder.AddModelStore();
            using var host = builder.Build();
            await host.Services.GetRequiredService<SharedModelStore>().PublishAsync(modelId, ct);
            Console.Out.WriteLine($"published {modelId} to {parse.GetRequiredValue(to)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static ModelStore Store(ParseResult parse, Option<string?> models) => new(ModelStoreLocation.Resolve(parse.GetValue(models)));


    private static Command List(Option<string?> models)
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array (with checkpoint URLs) instead of a table." };
        var command = new Command(
            "list", "List the 26 zoo models with seed figures, exact parameter and multiply-add counts, and local weights; then your custom models with their class counts.")
        {
            json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var rows = await ModelListing.BuildAsync(Store(parse, models), ct);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(rows, Json));
            }
            else
            {
                // The table needs about 125 columns; piped output would otherwise be wrapped at Spectre's default 80.
                if (Console.IsOutputRedirected)
                {
                    AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
                }

                AnsiConsole.Write(Table(rows));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Table Table(IReadOnlyList<ModelListingRow> rows)
    {
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("id");
        table.AddColumn("arch");
        table.AddColumn("flavour");
        table.AddColumn(new TableColumn("R").RightAligned());
        table.AddColumn("norm");
        table.AddColumn(new TableColumn("Params(M)").RightAligned());
        table.AddColumn(new TableColumn("Top-1").RightAligned());
        table.AddColumn(new TableColumn("Top-5").RightAligned());
        table.AddColumn(new TableColumn("params (exact)").RightAligned());
        table.AddColumn(new TableColumn("MACs @R").RightAligned());
        table.AddColumn(new TableColumn("classes").RightAligned());
        table.AddColumn("weights");
        foreach (var r in rows)
        {
            table.AddRow(
                r.Id,
                r.Arch,
                Markup.Escape(r.Flavour),
                Number(r.Resolution),
                r.NormalizationLabel,
                Figure(r.SeedParamsMillions),
                Figure(r.Top1),
                Figure(r.Top5),
                r.ParameterCountMatchesSeed is false ? $"[red]{Number(r.ParameterCount)} (≠ seed)[/]" : Number(r.ParameterCount),
                Number(r.MultiplyAdds),
                Number(r.ClassCount),
                r.WeightsPresent ? "[green]present[/]" : "-");
        }

        return table;
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A seed figure; custom models have none.</summary>
    private static string Figure(double? value) => value?.ToString("F2", CultureInfo.InvariantCulture) ?? "-";

    private static Command Import(Option<string?> models)
    {
        var file = new Argument<string>("FILE") { Description = $"Checkpoint ({string.Join(", ", CheckpointImporter.SupportedExtensions)})." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model id (see `effnet models list`); with --classes, the name of your custom model (lowercase letters, digits, _ and -).",
            Required = true,
        };
        var normalization = new Option<string?>("--normalization")
        {
            Description = "Serve the weights with this input normalisation instead of the catalogue's: imagenet or 01. "
                + "Meant for efficientnet_es/em, whose seed figures used ImageNet mean/std while the released configs use 01. "
                + "Wins over an .onnx file's own normalization/mean/std metadata.",
        };
        var arch = new Option<string?>("--arch")
        {
            Description = "Custom model: the zoo architecture the checkpoint was fine-tuned from (b0..b8, es, em). Goes with --classes.",
        };
        var classes = new Option<string?>("--classes")
        {
            Description = "Custom model: a text file with one class name per line, one per output of the checkpoint's head, in output order. "
                + "Goes with --arch; the model is then served under the --model name with these names.",
        };
        var command = new Command(
            "import", "Import a PyTorch checkpoint or an exported ONNX model into the store: a zoo model's, or (--arch, --classes) one fine-tuned on your own classes.")
        {
            file, model, normalization, arch, classes,
        };
        command.SetAction((parse, ct) => ReportingErrorsAsync(async () =>
        {
            var path = Path.GetFullPath(parse.GetRequiredValue(file));
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path} does not exist.", path);
            }

            var chosen = parse.GetValue(normalization) is { } name ? Normalization.Parse(name) : null;
            var (archName, classesPath) = (parse.GetValue(arch), parse.GetValue(classes));
            if ((archName is null) != (classesPath is null))
            {
                throw new ArgumentException("--arch and --classes go together: a custom model needs the architecture it was fine-tuned from and the names of its classes.");
            }

            var store = Store(parse, models);
            var importer = new CheckpointImporter(store);
            ResolvedModel imported;
            try
            {
                imported = classesPath is null
                    ? await importer.ImportFileAsync(parse.GetRequiredValue(model), path, null, chosen, ct)
                    : await importer.ImportCustomFileAsync(parse.GetRequiredValue(model), archName!, Path.GetFullPath(classesPath), path, null, chosen, ct);
            }
            catch (Exception e) when (e is CheckpointFormatException or CheckpointMismatchException or OnnxModelRejectedException)
            {
                // The reader's reason does not know the file's name; the user needs both.
                CliErrors.Report($"{path}: {e.Message}", e);
                return ExitCodes.CheckpointRejected;
            }

            Console.Out.WriteLine($"imported {imported.Variant.Id}: {imported.WeightsDescription}");
            var standard = imported.Variant.DefaultNormalization;
            var whose = imported.Variant.IsCustom ? $"the default for {imported.Variant.Arch}" : "the catalogue's";
            Console.Out.WriteLine(imported.NormalizationOverridden
                ? $"  normalisation {imported.Variant.Normalization} (override; {whose} is {standard})"
                : $"  normalisation {standard} ({whose})");
            if (imported.Variant.IsCustom)
            {
                Console.Out.WriteLine($"  {imported.ClassNames.Count} classes, arch {imported.Variant.Arch} ({store.ClassNamesPath(imported.Variant.Id)})");
            }

            Console.Out.WriteLine($"  {imported.OnnxPath} (sha256 {imported.OnnxSha256})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Pull(Option<string?> models)
    {
        var id = new Argument<string>("ID") { Description = "Model id (see `effnet models list`)." };
        var mirror = new Option<string?>("--mirror")
        {
            Description = $"Base URL replacing {CheckpointUrl.Prefix} (default: ${CheckpointMirror.EnvironmentVariable}).",
        };
        var urls = new Option<string[]>("--url")
        {
            Description = "Download from this URL instead of the catalogue's (repeatable; the file name must end in -<first 8 hex digits of its SHA-256>.pth).",
        };
        var force = new Option<bool>("--force") { Description = "Download again even if the weights are already stored." };
        var command = new Command("pull", "Download a model's checkpoint (seed URL first, then the released fallback), verify its SHA-256 and import it.")
        {
            id, mirror, urls, force,
        };
        command.SetAction((parse, ct) => ReportingErrorsAsync(async () =>
        {
            var store = Store(parse, models);
            var variant = ModelCatalogue.Get(parse.GetRequiredValue(id));
            if (store.HasImportedWeights(variant.Id) && !parse.GetValue(force))
            {
                Console.Out.WriteLine($"{variant.Id} is already in {store.Root} (use --force to download again).");
                return ExitCodes.Ok;
            }

            using var puller = ModelPuller.Create(store, CheckpointMirror.Resolve(parse.GetValue(mirror)));
            var explicitUrls = parse.GetValue(urls) ?? [];
            var pulled = await PullProgressDisplay.RunAsync(reporter => explicitUrls.Length == 0
                ? puller.PullAsync(variant.Id, reporter, ct)
                : puller.PullFromAsync(variant.Id, [.. explicitUrls.Select(u => new Uri(u, UriKind.Absolute))], reporter, ct));
            Console.Out.WriteLine($"pulled {pulled.Variant.Id}: {pulled.WeightsDescription}");
            Console.Out.WriteLine($"  {pulled.OnnxPath} (sha256 {pulled.OnnxSha256})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Export(Option<string?> models)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model id (see `effnet models list`).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "ONNX file to write.", Required = true };
        var randomWeights = new Option<bool>("--random-weights") { Description = "Export deterministic UNTRAINED weights instead of the stored ones." };
        var seed = new Option<int>("--seed") { Description = "Seed of --random-weights.", DefaultValueFactory = _ => 0 };
        var command = new Command("export", "Write a model's ONNX file (input [N,3,R,R] -> probs [N,classes]).") { model, output, randomWeights, seed };
        command.SetAction((parse, ct) => ReportingErrorsAsync(async () =>
        {
            var destination = Path.GetFullPath(parse.GetRequiredValue(output));
            var randomSeed = parse.GetValue(randomWeights) ? parse.GetValue(seed) : (int?)null;
            var exported = await new ModelExporter(Store(parse, models)).ExportAsync(parse.GetRequiredValue(model), randomSeed, destination, ct);
            if (exported.Untrained)
            {
                Console.Error.WriteLine($"warning: {destination} holds UNTRAINED random weights (seed {randomSeed}); its predictions are meaningless.");
            }

            Console.Out.WriteLine($"wrote {destination}: {exported.Variant.Id}, {exported.WeightsDescription}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Turns the failures a user can act on into one clear line on stderr and an exit code; anything else is a bug and propagates.</summary>
    private static async Task<int> ReportingErrorsAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (ExitCodeFor(e) is { } code)
        {
            CliErrors.Report(e.Message, e);
            return code;
        }
    }

    private static int? ExitCodeFor(Exception e) => e switch
    {
        UnknownModelException or UnsupportedWeightsFileException or FileNotFoundException or ArgumentException or UriFormatException
            or ClassNamesException => ExitCodes.InvalidArguments,
        CheckpointFormatException or CheckpointMismatchException or OnnxModelRejectedException => ExitCodes.CheckpointRejected,
        ModelDownloadFailedException or ModelNotAvailableException or ModelHashMismatchException or RemoteModelNotFoundException
            or InvalidDataException => ExitCodes.ModelUnavailable,
        InvalidOperationException or Azure.RequestFailedException => ExitCodes.ServerError,
        _ => null,
    };
}
