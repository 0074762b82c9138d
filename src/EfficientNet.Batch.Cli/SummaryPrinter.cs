using System.Text.Json;
using Spectre.Console;

namespace EfficientNet.Batch.Cli;

/// <summary>Prints the essentials of a summary.json.</summary>
internal static class SummaryPrinter
{
    public static void Print(string summaryPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(summaryPath));
        var root = document.RootElement;
        var table = new Table().HideHeaders().AddColumns("key", "value");
        table.AddRow("model", Markup.Escape(root.GetProperty("model").GetProperty("id").GetString() ?? ""));
        table.AddRow("weights", Markup.Escape(root.GetProperty("weights").GetString() ?? ""));
        var execution = root.GetProperty("executionProviders").EnumerateArray()
            .Concat(root.TryGetProperty("precisions", out var precisions) ? precisions.EnumerateArray() : [])
            .Select(e => e.GetString());
        table.AddRow("execution", Markup.Escape(string.Join(", ", execution)));
        table.AddRow("images ok / failed", $"{root.GetProperty("imagesOk").GetInt64()} / {root.GetProperty("imagesFailed").GetInt64()}");
        if (root.TryGetProperty("imagesNotClassified", out var notClassified) && notClassified.GetInt64() > 0)
        {
            table.AddRow("images not classified", notClassified.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (root.TryGetProperty("incremental", out var incremental))
        {
            table.AddRow("re-scoring", $"{incremental.GetProperty("classified").GetInt64()} classified, {incremental.GetProperty("reused").GetInt64()} reused");
            table.AddRow("changes", $"{incremental.GetProperty("new").GetInt64()} new, {incremental.GetProperty("changed").GetInt64()} changed, " +
                $"{incremental.GetProperty("removed").GetInt64()} removed; top-1 changed: {incremental.GetProperty("top1Changed").GetInt64()}");
            if (incremental.TryGetProperty("fullReason", out var reason))
            {
                table.AddRow("full re-score", Markup.Escape(reason.GetString() ?? ""));
            }
        }

        table.AddRow("wall time", $"{root.GetProperty("wallSeconds").GetDouble():F2} s");
        table.AddRow("throughput", $"{root.GetProperty("imagesPerSecond").GetDouble():F1} images/s");
        if (root.TryGetProperty("errorsByKind", out var errors))
        {
            foreach (var error in errors.EnumerateObject())
            {
                table.AddRow($"errors: {Markup.Escape(error.Name)}", error.Value.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (root.TryGetProperty("accuracy", out var accuracy))
        {
            table.AddRow("top-1 / top-k accuracy", $"{accuracy.GetProperty("top1").GetDouble():P2} / {accuracy.GetProperty("topK").GetDouble():P2}");
        }

        if (root.TryGetProperty("evaluation", out var evaluation))
        {
            table.AddRow("evaluation", $"top-1 {evaluation.GetProperty("top1").GetDouble():P2}, top-{evaluation.GetProperty("topK").GetInt32()} " +
                $"{evaluation.GetProperty("top5").GetDouble():P2}, calibration error {evaluation.GetProperty("expectedCalibrationError").GetDouble():F4}");
        }

        if (root.TryGetProperty("review", out var review))
        {
            table.AddRow("review queue", $"{review.GetProperty("images").GetInt64()} images");
        }

        if (root.TryGetProperty("deviceSeconds", out var device))
        {
            table.AddRow("device time", string.Join(", ", device.EnumerateObject().Select(d => $"{d.Name} {d.Value.GetDouble():F1} s")));
        }

        if (root.TryGetProperty("cost", out var cost))
        {
            table.AddRow("cost", $"{cost.GetProperty("total").GetDouble():G4} ({cost.GetProperty("per1000Images").GetDouble():G4} per 1,000 images)");
        }

        if (root.TryGetProperty("outputs", out var outputs))
        {
            foreach (var file in outputs.EnumerateObject())
            {
                table.AddRow($"output: {Markup.Escape(file.Name)}", Markup.Escape(file.Value.GetString() ?? ""));
            }
        }

        AnsiConsole.Write(table);
    }
}
