using System.Globalization;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Models;

namespace EfficientNet.Batch.Components.Tests.Evaluation;

/// <summary>Top-1/top-5, per-class recall and precision, confused pairs and calibration, checked by hand and on the
/// shared ImageNet samples against a plain recount.</summary>
public sealed class EvaluatorTests
{
    private static readonly string[] Animals = ["cat", "dog", "fox"];

    private static PredictionRecord Record(string path, int? label, params (int Index, float Probability)[] top) => new()
    {
        Path = path,
        Label = label,
        Top = top.Select(c => new PredictedClass(c.Index, c.Index < Animals.Length ? Animals[c.Index] : $"class {c.Index}", c.Probability)).ToArray(),
    };

    /// <summary>
    /// Ten classified records of three classes (0 cat, 1 dog, 2 fox), one labelled error, one unlabelled record.
    /// <code>
    /// path label top-1 (p)   rest            top-1?  in top-k?  bin = floor(15 p)
    /// a1   0     0 (.90)     1               yes     yes        13
    /// a2   0     0 (.82)     2               yes     yes        12
    /// a3   0     1 (.62)     0               no      yes         9
    /// a4   0     2 (.50)     1               no      no          7
    /// b1   1     1 (.95)     0               yes     yes        14
    /// b2   1     1 (.70)     2               yes     yes        10
    /// b3   1     0 (.55)     1               no      yes         8
    /// c1   2     2 (.85)     0               yes     yes        12
    /// c2   2     1 (.65)     2               no      yes         9
    /// c3   2     1 (.42)     0, 2            no      yes         6
    /// </code>
    /// Labelled 11 (+ error e1), evaluated 10, top-1 5/10 = 0.5, top-k 9/10 = 0.9 with k = 3 (c3 keeps three classes).
    /// cat: support 4, predicted 3 (a1 a2 b3), correct 2: recall .5, precision .6667.
    /// dog: support 3, predicted 5 (a3 b1 b2 c2 c3), correct 2: recall .6667, precision .4.
    /// fox: support 3, predicted 2 (a4 c1), correct 1: recall .3333, precision .5.
    /// Confused: fox→dog 2 (c2, c3), then by index cat→dog 1 (a3), cat→fox 1 (a4), dog→cat 1 (b3).
    /// Bins |acc - conf|·n: 6: .42, 7: .50, 8: .55, 9: 2·.635, 10: .30, 12: 2·|1 - .835| = .33, 13: .10, 14: .05;
    /// ECE = 3.52 / 10 = .352.
    /// </summary>
    private static IEnumerable<PredictionRecord> HandCheckedRecords() =>
    [
        Record("a1", 0, (0, .90f), (1, .05f)),
        Record("a2", 0, (0, .82f), (2, .10f)),
        Record("a3", 0, (1, .62f), (0, .30f)),
        Record("a4", 0, (2, .50f), (1, .30f)),
        Record("b1", 1, (1, .95f), (0, .03f)),
        Record("b2", 1, (1, .70f), (2, .20f)),
        Record("b3", 1, (0, .55f), (1, .40f)),
        Record("c1", 2, (2, .85f), (0, .10f)),
        Record("c2", 2, (1, .65f), (2, .25f)),
        Record("c3", 2, (1, .42f), (0, .35f), (2, .20f)),
        PredictionRecord.Failure("e1", 1, "corrupt", "truncated"),
        Record("u1", null, (0, .90f)),
    ];

    [Fact]
    public void A_hand_checked_case_gives_the_computed_rates_classes_confusions_and_calibration()
    {
        var evaluator = new Evaluator(Animals);
        foreach (var record in HandCheckedRecords())
        {
            evaluator.Add(record);
        }

        var result = evaluator.Result();

        Assert.Equal(11, result.Labelled);
        Assert.Equal(10, result.Evaluated);
        Assert.Equal(1, result.Errors);
        Assert.Equal(1, evaluator.Unlabelled);
        Assert.Equal(0.5, result.Top1);
        Assert.Equal(0.9, result.Top5);
        Assert.Equal(3, result.TopK);
        Assert.Equal(
            [
                new ClassMetrics(0, "cat", Support: 4, Predicted: 3, Correct: 2, Accuracy: 0.5, Precision: 0.6667, Recall: 0.5),
                new ClassMetrics(1, "dog", Support: 3, Predicted: 5, Correct: 2, Accuracy: 0.6667, Precision: 0.4, Recall: 0.6667),
                new ClassMetrics(2, "fox", Support: 3, Predicted: 2, Correct: 1, Accuracy: 0.3333, Precision: 0.5, Recall: 0.3333),
            ],
            result.PerClass);
        Assert.Equal(
            [("fox", "dog", 2L, "c2|c3"), ("cat", "dog", 1L, "a3"), ("cat", "fox", 1L, "a4"), ("dog", "cat", 1L, "b3")],
            result.MostConfused.Select(p => (p.ActualName, p.PredictedName, p.Count, string.Join('|', p.Examples))));
        Assert.Equal([(2, 1), (0, 1), (0, 2), (1, 0)], result.MostConfused.Select(p => (p.Actual, p.Predicted)));
        Assert.Equal(0.352, result.ExpectedCalibrationError);

        Assert.Equal(Evaluator.CalibrationBins, result.Calibration.Count);
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 1, 0, 2, 1, 1], result.Calibration.Select(b => b.Count));
        var nine = result.Calibration[9];
        Assert.Equal((0.6, 0.6667, 0.635, 0.0), (nine.From, nine.To, nine.MeanConfidence, nine.Accuracy));
        var twelve = result.Calibration[12];
        Assert.Equal((0.8, 0.8667, 0.835, 1.0), (twelve.From, twelve.To, twelve.MeanConfidence, twelve.Accuracy));
        Assert.Equal((0.9333, 1.0), (result.Calibration[14].From, result.Calibration[14].To));
    }

    [Fact]
    public void Confused_pairs_are_capped_and_keep_the_first_examples_seen()
    {
        var evaluator = new Evaluator(Animals, confusedPairs: 2, examplesPerPair: 1);
        foreach (var record in HandCheckedRecords())
        {
            evaluator.Add(record);
        }

        var pairs = evaluator.Result().MostConfused;

        Assert.Equal([("fox", "dog", "c2"), ("cat", "dog", "a3")], pairs.Select(p => (p.ActualName, p.PredictedName, p.Examples.Single())));
    }

    [Fact]
    public void Examples_stay_bounded_however_many_records_a_pair_has()
    {
        var evaluator = new Evaluator(Animals);
        for (var i = 0; i < 10_000; i++)
        {
            evaluator.Add(Record($"img{i}.jpg", 0, (1, .5f)));
        }

        var pair = Assert.Single(evaluator.Result().MostConfused);

        Assert.Equal(10_000, pair.Count);
        Assert.Equal(["img0.jpg", "img1.jpg", "img2.jpg"], pair.Examples);
    }

    [Fact]
    public void Error_records_count_as_labelled_errors_and_stay_out_of_the_rates()
    {
        var evaluator = new Evaluator(Animals);
        evaluator.Add(Record("ok.jpg", 2, (2, .9f)));
        evaluator.Add(PredictionRecord.Failure("broken.jpg", 0, "corrupt", "truncated"));
        evaluator.Add(PredictionRecord.Failure("gone.jpg", 1, "not-found", "no such blob"));
        evaluator.Add(new PredictionRecord { Path = "empty.jpg", Label = 1, Top = [] });
        evaluator.Add(PredictionRecord.Failure("unlabelled.jpg", null, "corrupt", "truncated"));

        var result = evaluator.Result();

        Assert.Equal((4L, 1L, 3L, 1.0), (result.Labelled, result.Evaluated, result.Errors, result.Top1));
        // Why each labelled image is missing from the rates: an image listed but not found is named as such.
        Assert.Equal(
            new Dictionary<string, long> { ["corrupt"] = 1, ["not-found"] = 1, ["no-classes"] = 1 },
            result.ErrorsByKind);
        Assert.Equal("1 corrupt, 1 no-classes, 1 not-found", result.DescribeErrors());
        Assert.Equal(1, evaluator.Unlabelled);
        var fox = Assert.Single(result.PerClass);
        Assert.Equal((2, 1L, 1L), (fox.Index, fox.Support, fox.Predicted));
        Assert.Empty(result.MostConfused);
        Assert.Equal(1, result.Calibration[13].Count);
        Assert.Equal(0.1, result.ExpectedCalibrationError);
    }

    [Fact]
    public void Records_without_labels_are_only_counted_and_the_label_argument_overrides_the_records_own()
    {
        var evaluator = new Evaluator(Animals);
        evaluator.Add(Record("a.jpg", null, (0, .9f)));
        evaluator.Add(Record("b.jpg", null, (1, .9f)));
        var empty = evaluator.Result();

        Assert.Equal(2, evaluator.Unlabelled);
        Assert.Equal((0L, 0L, 0L, 0.0, 0.0, 0, 0.0), (empty.Labelled, empty.Evaluated, empty.Errors, empty.Top1, empty.Top5, empty.TopK, empty.ExpectedCalibrationError));
        Assert.Empty(empty.PerClass);
        Assert.All(empty.Calibration, b => Assert.Equal(0, b.Count));

        // The record says cat, the ground truth passed in says dog: dog wins, so the prediction (cat) is wrong.
        evaluator.Add(Record("c.jpg", 0, (0, .9f)), label: 1);
        var result = evaluator.Result();

        Assert.Equal((1L, 0.0), (result.Labelled, result.Top1));
        Assert.Equal(("dog", "cat"), (result.MostConfused[0].ActualName, result.MostConfused[0].PredictedName));
    }

    [Fact]
    public void Probability_one_falls_in_the_last_bin_and_zero_in_the_first()
    {
        var evaluator = new Evaluator(Animals);
        evaluator.Add(Record("sure.jpg", 0, (0, 1f)));
        evaluator.Add(Record("unsure.jpg", 0, (1, 0f)));

        var result = evaluator.Result();

        Assert.Equal(1, result.Calibration[^1].Count);
        Assert.Equal((1.0, 1.0), (result.Calibration[^1].MeanConfidence, result.Calibration[^1].Accuracy));
        Assert.Equal(1, result.Calibration[0].Count);
        Assert.Equal(0.0, result.ExpectedCalibrationError);
    }

    [Fact]
    public void A_model_with_37_classes_is_evaluated_with_its_own_names_and_unknown_classes_get_a_name()
    {
        var breeds = Enumerable.Range(0, 37).Select(i => $"breed{i:00}").ToArray();
        var evaluator = new Evaluator(breeds);
        PredictionRecord Pet(string path, int label, int predicted, string name) =>
            new() { Path = path, Label = label, Top = [new PredictedClass(predicted, name, .8f)] };

        evaluator.Add(Pet("a.jpg", 36, 36, "ignored: the list names class 36"));
        evaluator.Add(Pet("b.jpg", 5, 40, "mystery"));
        evaluator.Add(Pet("c.jpg", 45, 5, "breed05"));

        var result = evaluator.Result();

        Assert.Equal([(5, "breed05", 1L, 1L), (36, "breed36", 1L, 1L), (40, "mystery", 0L, 1L), (45, "45", 1L, 0L)],
            result.PerClass.Select(c => (c.Index, c.Name, c.Support, c.Predicted)));
        Assert.Equal(0.0, result.PerClass.Single(c => c.Index == 40).Precision);
        Assert.Equal(1, result.TopK);
        Assert.Equal(0.3333, result.Top1);
    }

    [Fact]
    public void A_negative_label_is_rejected()
    {
        var evaluator = new Evaluator(Animals);

        var e = Assert.Throws<ArgumentException>(() => evaluator.Add(Record("a.jpg", -1, (0, .5f))));

        Assert.Contains("a.jpg", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The shared 1000 ImageNet photos (one per class, labels.csv), with synthetic predictions: every 50th record
    /// (from the 8th) an error, every 4th correct, the rest a wrong class with the true one at rank 2..5 or absent. The
    /// evaluator's figures must equal a plain recount over the same records.
    /// </summary>
    [Fact]
    public void On_the_shared_samples_the_figures_equal_a_plain_recount()
    {
        var samples = File.ReadLines(Path.Combine(TestData.Samples, "labels.csv")).Skip(1)
            .Select(line => line.Split(','))
            .Select(f => (Path: f[0], Label: int.Parse(f[1], CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(1000, samples.Count);
        var records = samples.Select((s, i) => Synthetic(s.Path, s.Label, i)).ToList();

        var evaluator = new Evaluator(ImageNetClasses.Names);
        foreach (var record in records)
        {
            evaluator.Add(record);
        }

        var result = evaluator.Result();

        var classified = records.Where(r => !r.IsError).ToList();
        Assert.Equal(1000, result.Labelled);
        Assert.Equal(classified.Count, result.Evaluated);
        Assert.Equal(records.Count(r => r.IsError), result.Errors);
        Assert.Equal(20, result.Errors);
        Assert.Equal(5, result.TopK);
        Assert.Equal(Round((double)classified.Count(r => r.Top![0].Index == r.Label) / classified.Count), result.Top1);
        Assert.Equal(Round((double)classified.Count(r => r.Top!.Any(c => c.Index == r.Label)) / classified.Count), result.Top5);

        var expectedClasses = Enumerable.Range(0, 1000)
            .Select(c => (
                Index: c,
                Name: ImageNetClasses.Names[c],
                Support: (long)classified.Count(r => r.Label == c),
                Predicted: (long)classified.Count(r => r.Top![0].Index == c),
                Correct: (long)classified.Count(r => r.Label == c && r.Top![0].Index == c)))
            .Where(c => c.Support > 0 || c.Predicted > 0)
            .Select(c => new ClassMetrics(
                c.Index, c.Name, c.Support, c.Predicted, c.Correct,
                Accuracy: c.Support == 0 ? 0 : Round((double)c.Correct / c.Support),
                Precision: c.Predicted == 0 ? 0 : Round((double)c.Correct / c.Predicted),
                Recall: c.Support == 0 ? 0 : Round((double)c.Correct / c.Support)))
            .ToList();
        Assert.Equal(expectedClasses, result.PerClass);

        var expectedPairs = classified
            .Where(r => r.Top![0].Index != r.Label)
            .GroupBy(r => (Actual: r.Label!.Value, Predicted: r.Top![0].Index))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Actual).ThenBy(g => g.Key.Predicted)
            .Take(20)
            .Select(g => (g.Key.Actual, g.Key.Predicted, (long)g.Count(), string.Join('|', g.Take(3).Select(r => r.Path))))
            .ToList();
        Assert.Equal(expectedPairs, result.MostConfused.Select(p => (p.Actual, p.Predicted, p.Count, string.Join('|', p.Examples))));

        var bins = classified
            .GroupBy(r => Math.Min((int)Math.Floor(r.Top![0].Probability * 15.0), 14))
            .ToDictionary(g => g.Key, g => (Count: (long)g.Count(), Confidence: g.Average(r => (double)r.Top![0].Probability), Accuracy: g.Average(r => r.Top![0].Index == r.Label ? 1.0 : 0.0)));
        var ece = bins.Values.Sum(b => (double)b.Count / classified.Count * Math.Abs(b.Accuracy - b.Confidence));
        Assert.Equal(Round(ece), result.ExpectedCalibrationError);
        Assert.True(result.ExpectedCalibrationError > 0.05, $"the synthetic predictions are miscalibrated on purpose, ECE {result.ExpectedCalibrationError}");
        for (var b = 0; b < 15; b++)
        {
            var expected = bins.TryGetValue(b, out var bin) ? (bin.Count, Round(bin.Confidence), Round(bin.Accuracy)) : (0L, 0.0, 0.0);
            Assert.Equal(expected, (result.Calibration[b].Count, result.Calibration[b].MeanConfidence, result.Calibration[b].Accuracy));
        }
    }

    private static PredictionRecord Synthetic(string path, int label, int i)
    {
        if (i % 50 == 7)
        {
            return PredictionRecord.Failure(path, label, "corrupt", "synthetic error");
        }

        var probability = 0.03f + (i % 19 * 0.05f);
        int[] classes;
        if (i % 4 == 0)
        {
            classes = [label, (label + 1) % 1000, (label + 2) % 1000, (label + 3) % 1000, (label + 4) % 1000];
        }
        else
        {
            // A wrong top-1 (one of three neighbours, so classes are predicted up to three times), the truth at rank
            // i % 5 + 2 (6: absent). With one image per class every confused pair counts 1, ordered by indices.
            var wrong = (label + 1 + (i % 3)) % 1000;
            var rest = Enumerable.Range(10, 4).Select(d => (label + d) % 1000).ToList();
            var rank = i % 5;
            if (rank < 4)
            {
                rest[rank] = label;
            }

            classes = [wrong, .. rest];
        }

        return new PredictionRecord
        {
            Path = path,
            Label = label,
            Top = classes.Select((c, rank) => new PredictedClass(c, ImageNetClasses.Names[c], rank == 0 ? probability : (1 - probability) / 8)).ToList(),
        };
    }

    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero);
}
