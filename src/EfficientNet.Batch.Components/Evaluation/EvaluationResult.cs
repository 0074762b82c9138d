namespace EfficientNet.Batch.Components.Evaluation;

/// <summary>How the predictions of a job compare with ground-truth labels.</summary>
/// <param name="Labelled">Records with a label (classified or not).</param>
/// <param name="Evaluated">Labelled records that were classified: the denominator of every rate.</param>
/// <param name="Errors">Labelled records that could not be classified (counted out of the rates, reported here).</param>
/// <param name="TopK">How many classes per record the top-k accuracy looked at (5, or fewer when the job kept fewer).</param>
/// <param name="ExpectedCalibrationError">Weighted mean gap between top-1 confidence and accuracy over
/// <see cref="Calibration"/>'s equal-width bins.</param>
public sealed record EvaluationResult(
    long Labelled,
    long Evaluated,
    long Errors,
    double Top1,
    double Top5,
    int TopK,
    double ExpectedCalibrationError,
    IReadOnlyList<ClassMetrics> PerClass,
    IReadOnlyList<ConfusedPair> MostConfused,
    IReadOnlyList<CalibrationBin> Calibration)
{
    /// <summary>The <see cref="Errors"/> by error kind, e.g. <c>not-found</c> for an image the manifest lists that is
    /// not there, <c>corrupt</c> for one that cannot be decoded: why labelled images are missing from the rates.</summary>
    public IReadOnlyDictionary<string, long> ErrorsByKind { get; init; } = new Dictionary<string, long>();

    /// <summary><see cref="ErrorsByKind"/> as text, most frequent first: <c>2 not-found, 1 corrupt</c>; empty when none.</summary>
    public string DescribeErrors() => string.Join(", ", ErrorsByKind
        .OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal)
        .Select(k => $"{k.Value:N0} {k.Key}"));
}

/// <summary>One class: how many images had it as label (<see cref="Support"/>), how many were predicted as it, and
/// how many of those agreed, counting classified images only. Accuracy equals recall (per-class accuracy over the
/// class's own images). Precision is 0 for a class nothing was predicted as, recall 0 for one no image had as label.</summary>
public sealed record ClassMetrics(int Index, string Name, long Support, long Predicted, long Correct, double Accuracy, double Precision, double Recall);

/// <summary>Images of class <see cref="Actual"/> predicted as <see cref="Predicted"/>, with a few example paths.</summary>
public sealed record ConfusedPair(int Actual, string ActualName, int Predicted, string PredictedName, long Count, IReadOnlyList<string> Examples);

/// <summary>Records whose top-1 probability fell in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record CalibrationBin(double From, double To, long Count, double MeanConfidence, double Accuracy);
