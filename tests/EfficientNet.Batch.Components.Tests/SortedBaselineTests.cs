using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Tests;

public sealed class SortedBaselineTests
{
    private static PredictionRecord Record(string path, int top1) => new()
    {
        Path = path,
        Top = [new PredictedClass(top1, $"class {top1}", 0.5f)],
    };

    private static BaselineSource Source(string name, int minutes, params PredictionRecord[] records) =>
        new(Guid.NewGuid(), name, null, DateTimeOffset.UnixEpoch.AddMinutes(minutes), _ => records.ToAsyncEnumerable());

    [Fact]
    public async Task Sources_merge_in_path_order_the_later_source_and_the_later_line_winning()
    {
        var older = Source("older run", 1, Record("a.jpg", 1), Record("c.jpg", 1), Record("e.jpg", 1), Record("g.jpg", 1));
        var newer = Source("interrupted run", 2, Record("b.jpg", 2), Record("c.jpg", 2), Record("c.jpg", 3), Record("g.jpg", 2));
        var passed = new List<string>();
        await using var baseline = await SortedBaseline.OpenAsync([older, newer], CancellationToken.None);

        Task Pass(PredictionRecord r)
        {
            passed.Add(r.Path);
            return Task.CompletedTask;
        }

        var c = await baseline.SeekAsync("c.jpg", Pass);
        var d = await baseline.SeekAsync("d.jpg", Pass);
        var g = await baseline.SeekAsync("g.jpg", Pass);
        await baseline.DrainAsync(Pass);

        Assert.Equal(3, c!.Top1!.Index);
        Assert.Null(d);
        Assert.Equal(2, g!.Top1!.Index);
        Assert.Equal(new[] { "a.jpg", "b.jpg", "e.jpg" }, passed);
    }

    [Fact]
    public async Task A_source_whose_paths_go_backwards_cannot_be_joined()
    {
        var unsorted = Source("job 42 (manifest)", 1, Record("a.jpg", 1), Record("c.jpg", 1), Record("b.jpg", 1));
        await using var baseline = await SortedBaseline.OpenAsync([unsorted], CancellationToken.None);

        var e = await Assert.ThrowsAsync<PlanOrderException>(() => baseline.SeekAsync("z.jpg", _ => Task.CompletedTask));

        Assert.Contains("job 42 (manifest) is not in path order ('b.jpg' follows 'c.jpg')", e.Message, StringComparison.Ordinal);
    }
}
