using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Tests;

public sealed class MergeStatisticsTests
{
    private static PredictionRecord Ok(string path, int? label, params int[] classes) => new()
    {
        Path = path,
        Label = label,
        Top = classes.Select((c, i) => new PredictedClass(c, $"class {c}", 0.5f / (i + 1))).ToArray(),
    };

    [Fact]
    public void Counts_errors_by_kind_top1_classes_and_label_accuracy()
    {
        var statistics = new MergeStatistics();
        statistics.Add(Ok("a.jpg", 1, 1, 2, 3));
        statistics.Add(Ok("b.jpg", 2, 1, 2, 3));
        statistics.Add(Ok("c.jpg", 9, 1, 2, 3));
        statistics.Add(Ok("d.jpg", null, 4, 1, 2));
        statistics.Add(PredictionRecord.Failure("e.jpg", null, "corrupt", "truncated"));
        statistics.Add(PredictionRecord.Failure("f.jpg", null, "corrupt", "bad marker"));
        statistics.Add(PredictionRecord.Failure("g.jpg", 3, "not-found", "gone"));

        Assert.Equal(7, statistics.Total);
        Assert.Equal(4, statistics.Ok);
        Assert.Equal(3, statistics.Failed);
        Assert.Equal(2, statistics.ErrorsByKind["corrupt"]);
        Assert.Equal(1, statistics.ErrorsByKind["not-found"]);
        Assert.Equal(3, statistics.Top1[1]);
        Assert.Equal(1, statistics.Top1[4]);
        Assert.Equal(3, statistics.Labelled);
        Assert.Equal(1, statistics.Top1Correct);
        Assert.Equal(2, statistics.TopKCorrect);
    }

    [Fact]
    public void Prediction_lines_round_trip_in_the_documented_json_shape()
    {
        var line = PredictionWriter.ToJsonLine(Ok("dir/x.jpg", null, 0));
        Assert.Equal("""{"path":"dir/x.jpg","top":[{"index":0,"name":"class 0","probability":0.5}]}""", line);

        var error = PredictionWriter.ToJsonLine(PredictionRecord.Failure("y.jpg", null, "corrupt", "truncated JPEG"));
        Assert.Equal("""{"path":"y.jpg","error":"truncated JPEG","errorKind":"corrupt"}""", error);
        Assert.Equal("truncated JPEG", PredictionWriter.FromJsonLine(error)!.Error);
    }
}
