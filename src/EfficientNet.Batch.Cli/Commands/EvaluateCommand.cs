using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Models;
using EfficientNet.Batch.Models.Catalogue;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet evaluate PREDICTIONS [--labels FILE] [--classes NAMES.txt] [--json]</c>: how a predictions.jsonl
/// compares with ground-truth labels (top-1/top-5, per-class recall and precision, confusions, calibration).</summary>
internal static class EvaluateCommand
{
    private const int WorstClasses = 10;

    /// <summary>Piped output has no width of its own; wide enough for the example paths of a confused pair.</summary>
    private const int PipedWidth = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var predictions = new Argument<string>("PREDICTIONS") { Description = "A predictions.jsonl file (as `effnet run` writes it)." };
        var labels = new Option<string?>("--labels")
        {
            Description = "Ground truth: a CSV manifest 'path,label' (label = class index or name), or a folder with one sub-folder per class. " +
                "Default: the records' own labels.",
        };
        var classes = new Option<string?>("--classes")
        {
            Description = "Text file with one class name per line, in class-index order, like a custom model's classes.txt (default: the 1000 ImageNet classes).",
        };
        var json = new Option<bool>("--json") { Description = "Print the evaluation as JSON." };
        var command = new Command("evaluate", "Compare predictions with ground-truth labels: accuracy, per-class recall and precision, confusions, calibration.")
        {
            predictions, labels, classes, json,
        };
        command.SetAction((parse, ct) => EvaluateAsync(
            parse.GetRequiredValue(predictions), parse.GetValue(labels), parse.GetValue(classes), parse.GetValue(json), ct));
        return command;
    }

    private static async Task<int> EvaluateAsync(string predictionsFile, string? labelsLocation, string? classesFile, bool json, CancellationToken cancellationToken)
    {
        Evaluation evaluation;
        try
        {
            var classNames = classesFile is null ? ImageNetClasses.Names : await ClassNames.ReadFileAsync(classesFile, cancellationToken);
            var labels = labelsLocation is null ? null : GroundTruth.Load(labelsLocation, classNames);
            evaluation = await EvaluateAsync(predictionsFile, labels, classNames, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ClassNamesException)
        {
            CliErrors.Report(e.Message, e);
            return ExitCodes.InvalidArguments;
        }

        if (evaluation.Result.Labelled == 0)
        {
            Console.Error.WriteLine(labelsLocation is null
                ? $"error: none of the {evaluation.Records} records in {predictionsFile} has a label; give the ground truth with --labels."
                : $"error: none of the {evaluation.Records} records in {predictionsFile} has its path in {labelsLocation}" +
                    (evaluation.FirstUnlabelledPath is { } path ? $" (e.g. '{path}'); paths must match as the records write them." : "."));
            return ExitCodes.InvalidArguments;
        }

        if (json)
        {
            Console.Out.WriteLine(ToJson(evaluation).ToJsonString(Json));
        }
        else
        {
            Print(evaluation);
        }

        return ExitCodes.Ok;
    }

    /// <summary>Streams the predictions once, in constant memory (beyond the labels and the evaluator's counts).</summary>
    private static async Task<Evaluation> EvaluateAsync(
        string predictionsFile, IReadOnlyDictionary<string, int>? labels, IReadOnlyList<string> classNames, CancellationToken cancellationToken)
    {
        var evaluator = new Evaluator(classNames);
        var matched = new HashSet<string>(GroundTruth.PathComparer);
        string? firstUnlabelled = null;
        long records = 0;
        using var reader = File.OpenText(predictionsFile);
        var lineNumber = 0L;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var record = ParseRecord(line, predictionsFile, lineNumber);
            records++;
            try
            {
                if (labels is null)
                {
                    evaluator.Add(record);
                }
                else if (labels.TryGetValue(record.Path, out var label))
                {
                    matched.Add(record.Path);
                    evaluator.Add(record, label);
                }
                else
                {
                    // The labels file is the ground truth: a record it does not name is unlabelled, whatever it carries.
                    firstUnlabelled ??= record.Path;
                    evaluator.Add(record with { Label = null });
                }
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{predictionsFile} line {lineNumber}: {e.Message}", e);
            }
        }

        return new Evaluation(evaluator.Result(), records, evaluator.Unlabelled, labels is null ? 0 : labels.Count - matched.Count, firstUnlabelled);
    }

    private static PredictionRecord ParseRecord(string line, string predictionsFile, long lineNumber)
    {
        try
        {
            return PredictionWriter.FromJsonLine(line) ?? throw new JsonException("null is not a record");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{predictionsFile} line {lineNumber}: not a prediction record ({e.Message})", e);
        }
    }

    private static JsonObject ToJson(Evaluation evaluation)
    {
        var document = new JsonObject
        {
            ["records"] = evaluation.Records,
            ["unlabelled"] = evaluation.Unlabelled,
            ["missingFromPredictions"] = evaluation.MissingFromPredictions,
        };
        foreach (var (name, value) in JsonSerializer.SerializeToNode(evaluation.Result, Json)!.AsObject().ToList())
        {
            document[name] = value?.DeepClone();
        }

        return document;
    }

    private static void Print(Evaluation evaluation)
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, PipedWidth);
        }

        var result = evaluation.Result;
        var summary = new Table().HideHeaders().AddColumns("key", "value");
        summary.AddRow("top-1", Percent(result.Top1));
        summary.AddRow(result.TopK == Evaluator.MaxTopK ? "top-5" : $"top-{result.TopK} (records keep {result.TopK} classes)", Percent(result.Top5));
        summary.AddRow("calibration error (ECE)", result.ExpectedCalibrationError.ToString("0.0000", CultureInfo.InvariantCulture));
        summary.AddRow("records", Count(evaluation.Records));
        summary.AddRow("labelled / evaluated", $"{Count(result.Labelled)} / {Count(result.Evaluated)}");
        summary.AddRow("labelled errors (not evaluated)", result.Errors == 0 ? Count(0) : $"{Count(result.Errors)} ({result.DescribeErrors()})");
        summary.AddRow("unlabelled records", Count(evaluation.Unlabelled));
        summary.AddRow("labels missing from predictions", Count(evaluation.MissingFromPredictions));
        AnsiConsole.Write(summary);

        var worst = result.PerClass.Where(c => c.Support > 0).OrderBy(c => c.Recall).ThenByDescending(c => c.Support).ThenBy(c => c.Index).Take(WorstClasses).ToList();
        if (worst.Count > 0)
        {
            var classes = new Table().Title("worst classes by recall").AddColumns("class", "name", "images", "correct", "recall", "precision");
            foreach (var c in worst)
            {
                classes.AddRow(Count(c.Index), Markup.Escape(c.Name), Count(c.Support), Count(c.Correct), Percent(c.Recall), Percent(c.Precision));
            }

            AnsiConsole.Write(classes);
        }

        if (result.MostConfused.Count > 0)
        {
            var confused = new Table().Title("most confused (actual → predicted)").AddColumns("actual", "predicted", "images", "examples");
            foreach (var pair in result.MostConfused)
            {
                confused.AddRow(
                    Markup.Escape($"{pair.ActualName} ({pair.Actual})"),
                    Markup.Escape($"{pair.PredictedName} ({pair.Predicted})"),
                    Count(pair.Count),
                    Markup.Escape(string.Join(", ", pair.Examples)));
            }

            AnsiConsole.Write(confused);
        }
    }

    private static string Percent(double rate) => rate.ToString("P2", CultureInfo.InvariantCulture);

    private static string Count(long count) => count.ToString(CultureInfo.InvariantCulture);

    private sealed record Evaluation(EvaluationResult Result, long Records, long Unlabelled, long MissingFromPredictions, string? FirstUnlabelledPath);
}
