using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>Decides which records a person should check: every record that could not be classified, a top-1
/// probability at most <see cref="ReviewSpec.MaxProbability"/>, or a top-1/top-2 margin below
/// <see cref="ReviewSpec.MinMargin"/>.</summary>
public static class ReviewSelector
{
    public const string Error = "error";
    public const string LowProbability = "low-probability";
    public const string LowMargin = "low-margin";

    /// <summary>Why the record goes to review, or an empty list when it does not.</summary>
    public static IReadOnlyList<string> Reasons(PredictionRecord record, ReviewSpec spec)
    {
        if (record.IsError || record.Top is not { Count: > 0 } top)
        {
            return [Error];
        }

        List<string>? reasons = null;
        if (spec.MaxProbability is { } max && top[0].Probability <= max)
        {
            (reasons ??= []).Add(LowProbability);
        }

        if (spec.MinMargin is { } min && Margin(record) < min)
        {
            (reasons ??= []).Add(LowMargin);
        }

        return reasons ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Top-1 minus top-2 probability (the top-1 probability when the record kept one class).</summary>
    public static double Margin(PredictionRecord record) =>
        record.Top is { Count: > 0 } top ? top[0].Probability - (top.Count > 1 ? top[1].Probability : 0f) : 0;
}
