using System.Globalization;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>What a job may ask of its outputs: known format names, and review bounds that are probabilities.</summary>
public static class OutputRequestRules
{
    public static void Validate(JobSpec spec, List<string> errors)
    {
        foreach (var name in spec.Outputs ?? [])
        {
            if (FormatProblem(name) is { } problem)
            {
                errors.Add($"'outputs': {problem}");
            }
        }

        if (spec.Review is { } review)
        {
            if (review.MaxProbability is null && review.MinMargin is null)
            {
                errors.Add("'review' needs 'maxProbability', 'minMargin' or both.");
            }

            CheckProbability("review.maxProbability", review.MaxProbability, errors);
            CheckProbability("review.minMargin", review.MinMargin, errors);
        }
    }

    /// <summary>Why <paramref name="name"/> cannot be asked for (naming the known formats), or null when it can: the
    /// one check behind POST /jobs' and schedules' <c>outputs</c> and the CLI's <c>--format</c>.</summary>
    public static string? FormatProblem(string? name) =>
        name is not null && OutputFormats.All.Contains(name, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"unknown format {Jobs.Quote.Input(name)}. Known: {string.Join(", ", OutputFormats.All)}.";

    private static void CheckProbability(string field, double? value, List<string> errors)
    {
        if (value is { } v && (!double.IsFinite(v) || v < 0 || v > 1))
        {
            errors.Add($"'{field}' must be between 0 and 1, not {v.ToString(CultureInfo.InvariantCulture)}.");
        }
    }
}
