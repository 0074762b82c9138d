using EfficientNet.Batch.Simulation;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>Deciding what to re-score at scale, on simulated storage whose images have no bytes at all.</summary>
public sealed class IncrementalPlannerTests
{
    [Fact]
    public async Task Rescoring_50000_images_of_which_120_changed_reads_no_image_and_sends_only_the_changed_ones()
    {
        var storage = new SimulatedStorage(50_000);
        var changed = Enumerable.Range(0, 120).Select(i => i * 401).ToList();

        var result = await IncrementalScenario.RunAsync(storage, changed, CancellationToken.None);

        Assert.Equal(0, result.ImageReads);
        Assert.Equal(120, result.Classified);
        Assert.Equal(50_000 - 120, result.Reused);
        Assert.Equal(50_000, result.PredictionLines);
        Assert.Equal(120, result.ChangeLines);
    }

    [Fact]
    public async Task Rescoring_an_unchanged_dataset_sends_nothing()
    {
        var storage = new SimulatedStorage(5_000);

        var result = await IncrementalScenario.RunAsync(storage, [], CancellationToken.None);

        Assert.Equal((0, 0, 5_000L, 5_000L, 0L), (result.ImageReads, result.Classified, result.Reused, result.PredictionLines, result.ChangeLines));
    }
}
