using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>
/// What <c>effnet run</c> finds in <c>--out</c> before it starts: nothing, a run of the same model (re-scored
/// incrementally, or resumed when it was interrupted), or anything else, which is refused unless <c>--overwrite</c>
/// is given; then the earlier run's outputs are removed first and files that are not a run's are left alone.
/// </summary>
internal static class EarlierOutput
{
    /// <returns>Why the folder cannot be used, or null when it can (after clearing it for <paramref name="overwrite"/>).</returns>
    public static string? Check(string directory, string shownAs, string model, bool overwrite)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var entries = Directory.EnumerateFileSystemEntries(directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => !name.StartsWith(BlobKey.ReservedSegmentPrefix, StringComparison.Ordinal))
            .ToList();
        if (entries.Count == 0)
        {
            return null;
        }

        var outputs = OutputNames();
        var earlierModel = SummaryModel(directory);
        var isRun = earlierModel is not null || entries.Contains(JobOutputLayout.ShardsRoot, StringComparer.Ordinal);
        var sameModel = earlierModel is null || string.Equals(earlierModel, ModelCatalogue.CanonicalId(model), StringComparison.Ordinal);
        if (isRun && sameModel && !overwrite)
        {
            return null;
        }

        if (!overwrite)
        {
            return isRun
                ? $"--out {shownAs} holds a run of model {earlierModel}, not {model}; choose another folder, or pass --overwrite to replace that run."
                : $"--out {shownAs} is not empty and holds no earlier run ({string.Join(", ", entries.Order(StringComparer.Ordinal).Take(3))}{(entries.Count > 3 ? ", …" : "")}); choose an empty or new folder, or pass --overwrite.";
        }

        foreach (var name in entries.Where(outputs.Contains))
        {
            var path = Path.Combine(directory, name);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }

        return null;
    }

    /// <summary>Every file a run writes at the top of its output: each format's file, the summary, the changes, and
    /// the shard results folder.</summary>
    private static HashSet<string> OutputNames()
    {
        using var formats = new ServiceCollection().AddOutputFormats().BuildServiceProvider();
        return new HashSet<string>(
            formats.GetServices<IOutputFormat>().Select(f => f.FileName)
                .Concat([JobOutputLayout.SummaryName, JobOutputLayout.PredictionsName, JobOutputLayout.ChangesName, JobOutputLayout.ShardsRoot]),
            StringComparer.Ordinal);
    }

    /// <summary>The model id in the folder's summary.json; null when there is none, or it cannot be read.</summary>
    private static string? SummaryModel(string directory)
    {
        var path = Path.Combine(directory, JobOutputLayout.SummaryName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var summary = JsonDocument.Parse(File.ReadAllBytes(path));
            return summary.RootElement.TryGetProperty("model", out var model) && model.TryGetProperty("id", out var id) ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
