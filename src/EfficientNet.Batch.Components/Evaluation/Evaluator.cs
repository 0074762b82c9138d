using System.Globalization;
using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Evaluation;

/// <summary>
/// Compares prediction records with ground-truth labels one record at a time: top-1 and top-5 accuracy, per-class
/// recall and precision, the most confused class pairs and the calibration of the top-1 probability.
/// </summary>
/// <remarks>
/// Memory does not grow with the number of records: three counts per class seen, one count per (actual, predicted)
/// pair that occurred (at most classes²) with the first <paramref name="examplesPerPair"/> paths of each (every pair
/// keeps its own, since which pairs are the most confused is known only at the end), and 15 calibration bins.
/// Not thread-safe: one evaluator per stream of records.
/// </remarks>
/// <param name="classNames">The model's class names, index = class. Classes beyond the list are named by what the
/// records call them, else by their index.</param>
/// <param name="confusedPairs">How many of the most confused pairs <see cref="Result"/> reports.</param>
/// <param name="examplesPerPair">How many example paths each confused pair keeps: the first ones added.</param>
public sealed class Evaluator(IReadOnlyList<string> classNames, int confusedPairs = 20, int examplesPerPair = 3)
{
    /// <summary>The most classes of a record that the top-k accuracy looks at.</summary>
    public const int MaxTopK = 5;

    /// <summary>Equal-width bins of the top-1 probability: [0, 1/15), [1/15, 2/15), …, [14/15, 1] (1.0 in the last).</summary>
    public const int CalibrationBins = 15;

    private const int Decimals = 4;

    /// <summary>The most distinct error kinds counted in <see cref="EvaluationResult.ErrorsByKind"/>.</summary>
    private const int MaxErrorKinds = 32;

    private readonly IReadOnlyList<string> _classNames = classNames ?? throw new ArgumentNullException(nameof(classNames));
    private readonly int _confusedPairs = confusedPairs >= 0
        ? confusedPairs
        : throw new ArgumentOutOfRangeException(nameof(confusedPairs), confusedPairs, "Must not be negative.");
    private readonly int _examplesPerPair = examplesPerPair >= 0
        ? examplesPerPair
        : throw new ArgumentOutOfRangeException(nameof(examplesPerPair), examplesPerPair, "Must not be negative.");

    private readonly Dictionary<int, ClassTally> _classes = [];
    private readonly Dictionary<(int Actual, int Predicted), PairTally> _confusions = [];
    private readonly Dictionary<string, long> _errorKinds = new(StringComparer.Ordinal);

    // Names the records gave classes beyond the list (bounded by the number of classes).
    private readonly Dictionary<int, string> _namesSeen = [];
    private readonly long[] _binCount = new long[CalibrationBins];
    private readonly long[] _binCorrect = new long[CalibrationBins];
    private readonly double[] _binConfidence = new double[CalibrationBins];
    private long _labelled;
    private long _evaluated;
    private long _errors;
    private long _top1Correct;
    private long _topKCorrect;
    private int _topK;

    /// <summary>Records added without a label (neither the argument nor the record's own): not evaluated.</summary>
    public long Unlabelled { get; private set; }

    /// <summary>Counts one record. <paramref name="label"/>, when given, is the ground truth in place of the record's own
    /// <see cref="PredictionRecord.Label"/>; a record with neither only counts as <see cref="Unlabelled"/>. An error
    /// record (or one without classes) counts as labelled but not evaluated.</summary>
    /// <exception cref="ArgumentException">The label is negative, or the top-1 probability is not a number.</exception>
    public void Add(PredictionRecord record, int? label = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        if ((label ?? record.Label) is not { } actual)
        {
            Unlabelled++;
            return;
        }

        if (actual < 0)
        {
            throw new ArgumentException($"'{record.Path}' has label {actual}: class indices are not negative.", nameof(label));
        }

        _labelled++;
        if (record.IsError || record.Top is not { Count: > 0 } top)
        {
            _errors++;
            var kind = record.ErrorKind ?? (record.IsError ? "error" : "no-classes");
            // Kinds are a short fixed vocabulary; a record from elsewhere cannot grow this without bound.
            if (_errorKinds.ContainsKey(kind) || _errorKinds.Count < MaxErrorKinds)
            {
                _errorKinds[kind] = _errorKinds.GetValueOrDefault(kind) + 1;
            }

            return;
        }

        var predicted = top[0];
        if (float.IsNaN(predicted.Probability))
        {
            throw new ArgumentException($"'{record.Path}' has a top-1 probability that is not a number.", nameof(record));
        }

        _evaluated++;
        var k = Math.Min(top.Count, MaxTopK);
        _topK = Math.Max(_topK, k);
        var inTopK = false;
        for (var i = 0; i < k; i++)
        {
            RememberName(top[i]);
            inTopK |= top[i].Index == actual;
        }

        var correct = predicted.Index == actual;
        _top1Correct += correct ? 1 : 0;
        _topKCorrect += inTopK ? 1 : 0;
        Tally(actual).Support++;
        var predictedTally = Tally(predicted.Index);
        predictedTally.Predicted++;
        if (correct)
        {
            predictedTally.Correct++;
        }
        else
        {
            CountConfusion(actual, predicted.Index, record.Path);
        }

        // Softmax output may overshoot 1 by a rounding error; it belongs to the last bin like 1.0 itself.
        var confidence = Math.Clamp((double)predicted.Probability, 0, 1);
        var bin = Math.Min((int)(confidence * CalibrationBins), CalibrationBins - 1);
        _binCount[bin]++;
        _binCorrect[bin] += correct ? 1 : 0;
        _binConfidence[bin] += confidence;
    }

    /// <summary>The evaluation of the records added so far. Rates are rounded to 4 decimals; a rate whose denominator
    /// is 0 is 0 (a class nothing was predicted as has precision 0).</summary>
    public EvaluationResult Result()
    {
        var perClass = _classes
            .OrderBy(c => c.Key)
            .Select(c => new ClassMetrics(
                c.Key,
                NameOf(c.Key),
                c.Value.Support,
                c.Value.Predicted,
                c.Value.Correct,
                Accuracy: Rate(c.Value.Correct, c.Value.Support),
                Precision: Rate(c.Value.Correct, c.Value.Predicted),
                Recall: Rate(c.Value.Correct, c.Value.Support)))
            .ToList();

        var mostConfused = _confusions
            .OrderByDescending(p => p.Value.Count)
            .ThenBy(p => p.Key.Actual)
            .ThenBy(p => p.Key.Predicted)
            .Take(_confusedPairs)
            .Select(p => new ConfusedPair(
                p.Key.Actual, NameOf(p.Key.Actual), p.Key.Predicted, NameOf(p.Key.Predicted), p.Value.Count, p.Value.Examples.ToList()))
            .ToList();

        var calibration = new List<CalibrationBin>(CalibrationBins);
        var calibrationError = 0.0;
        for (var b = 0; b < CalibrationBins; b++)
        {
            var count = _binCount[b];
            var meanConfidence = count == 0 ? 0 : _binConfidence[b] / count;
            var accuracy = count == 0 ? 0 : (double)_binCorrect[b] / count;
            calibrationError += count == 0 ? 0 : (double)count / _evaluated * Math.Abs(accuracy - meanConfidence);
            calibration.Add(new CalibrationBin(
                Round((double)b / CalibrationBins), Round((double)(b + 1) / CalibrationBins), count, Round(meanConfidence), Round(accuracy)));
        }

        return new EvaluationResult(
            _labelled,
            _evaluated,
            _errors,
            Top1: Rate(_top1Correct, _evaluated),
            Top5: Rate(_topKCorrect, _evaluated),
            _topK,
            ExpectedCalibrationError: Round(calibrationError),
            perClass,
            mostConfused,
            calibration)
        {
            ErrorsByKind = new Dictionary<string, long>(_errorKinds, StringComparer.Ordinal),
        };
    }

    private ClassTally Tally(int index)
    {
        if (!_classes.TryGetValue(index, out var tally))
        {
            tally = new ClassTally();
            _classes.Add(index, tally);
        }

        return tally;
    }

    private void CountConfusion(int actual, int predicted, string path)
    {
        if (!_confusions.TryGetValue((actual, predicted), out var pair))
        {
            pair = new PairTally();
            _confusions.Add((actual, predicted), pair);
        }

        pair.Count++;
        if (pair.Examples.Count < _examplesPerPair)
        {
            pair.Examples.Add(path);
        }
    }

    private void RememberName(PredictedClass predicted)
    {
        if (predicted.Index >= _classNames.Count && !string.IsNullOrEmpty(predicted.Name))
        {
            _namesSeen.TryAdd(predicted.Index, predicted.Name);
        }
    }

    private string NameOf(int index) =>
        index < _classNames.Count ? _classNames[index]
        : _namesSeen.TryGetValue(index, out var name) ? name
        : index.ToString(CultureInfo.InvariantCulture);

    private static double Rate(long numerator, long denominator) => denominator == 0 ? 0 : Round((double)numerator / denominator);

    private static double Round(double value) => Math.Round(value, Decimals, MidpointRounding.AwayFromZero);

    private sealed class ClassTally
    {
        public long Support { get; set; }

        public long Predicted { get; set; }

        public long Correct { get; set; }
    }

    private sealed class PairTally
    {
        public long Count { get; set; }

        public List<string> Examples { get; } = [];
    }
}
