using EfficientNet.Batch.Components.Incremental;
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
        Assert.True(result.Joined);
    }

    [Fact]
    public async Task A_listing_in_path_order_is_joined_with_the_baseline_as_it_streams_removed_paths_included()
    {
        var storage = new SimulatedStorage(40_000);
        var changed = Enumerable.Range(0, 30).Select(i => 7 + (i * 997)).ToList();
        // Gone from today's listing: the first image, a run in the middle, one beside a changed image, and the last.
        var removed = new HashSet<int>([0, .. Enumerable.Range(20_000, 50), 7 + 997 + 1, 39_999]);

        var result = await IncrementalScenario.RunAsync(storage, changed, CancellationToken.None, removed);

        Assert.True(result.Joined);
        Assert.Equal((30, 40_000 - 30 - removed.Count, (long)removed.Count), (result.Classified, result.Reused, result.Removed));
        Assert.Equal(40_000 - removed.Count, result.PredictionLines);
        Assert.Equal(30 + removed.Count, result.ChangeLines);
    }

    [Fact]
    public async Task A_listing_out_of_path_order_is_planned_again_with_the_baseline_in_memory_and_decides_the_same()
    {
        var storage = new SimulatedStorage(60_000);
        // Three in four rewritten, so that the shard plan has stored a page (64 shards) before the disorder shows: the
        // plan started again must replace it, or the merge finds other images in the shards than in the plan.
        var changed = Enumerable.Range(0, 60_000).Where(i => i % 4 != 0).ToList();
        var removed = new HashSet<int>([0, 4, 30_000, 59_996]);

        // A manifest's order: its second half first, so the disorder shows only after 30,000 images were planned.
        var result = await IncrementalScenario.RunAsync(
            storage, changed, CancellationToken.None, removed, order: all => [.. all.Where(i => i >= 30_000), .. all.Where(i => i < 30_000)]);

        Assert.Equal(BaselineComparison.InMemory, result.Comparison);
        Assert.Equal(2, result.Listings);
        Assert.Equal((45_000, 60_000L - 45_000 - 4, 4L), (result.Classified, result.Reused, result.Removed));
        Assert.Equal(60_000 - 4, result.PredictionLines);
        Assert.Equal(45_000 + 4, result.ChangeLines);
    }

    [Fact]
    public async Task A_baseline_too_large_for_memory_is_compared_out_of_order_on_local_disk_with_the_same_plan_and_outputs()
    {
        var changed = Enumerable.Range(0, 20_000).Where(i => i % 3 == 1).ToList();
        var removed = new HashSet<int>([0, 5, 10_000, 19_998]);
        // A manifest's order: odd images first, then even ones backwards.
        Func<IEnumerable<int>, IEnumerable<int>> order = all => [.. all.Where(i => i % 2 == 1), .. all.Where(i => i % 2 == 0).Reverse()];

        var inMemory = await IncrementalScenario.RunAsync(new SimulatedStorage(20_000), changed, CancellationToken.None, removed, order);
        var spilled = await IncrementalScenario.RunAsync(
            new SimulatedStorage(20_000), changed, CancellationToken.None, removed, order, inMemoryBaselineLimit: 5_000, spillPartitions: 7);

        Assert.Equal(BaselineComparison.InMemory, inMemory.Comparison);
        Assert.Equal(BaselineComparison.Spilled, spilled.Comparison);
        Assert.Equal(
            (changed.Count - 1, 20_000L - changed.Count - 3, 4L),
            (spilled.Classified, spilled.Reused, spilled.Removed));
        Assert.Equal((inMemory.Classified, inMemory.Reused, inMemory.Removed), (spilled.Classified, spilled.Reused, spilled.Removed));
        // Line for line, in the manifest's order: the same predictions.jsonl, and the same changes.
        Assert.Equal(inMemory.PredictionsSha256, spilled.PredictionsSha256);
        Assert.Equal(inMemory.Changes, spilled.Changes);
        Assert.Equal(0, spilled.ImageReads);
    }

    [Fact]
    public async Task A_manifest_is_compared_without_a_join_attempt_listing_it_once_with_the_outputs_a_join_gives()
    {
        // A manifest's images need a properties call each for their fingerprints: a join that found the order broken
        // late would list, and fetch, them all again. Even a manifest in path order is compared in any order.
        var changed = Enumerable.Range(0, 30).Select(i => 11 + (i * 613)).ToList();
        var removed = new HashSet<int>([3, 9_000, 19_999]);

        var folder = await IncrementalScenario.RunAsync(new SimulatedStorage(20_000), changed, CancellationToken.None, removed);
        var manifest = await IncrementalScenario.RunAsync(new SimulatedStorage(20_000), changed, CancellationToken.None, removed, manifest: true);

        Assert.Equal((BaselineComparison.Joined, 1), (folder.Comparison, folder.Listings));
        Assert.Equal((BaselineComparison.InMemory, 1), (manifest.Comparison, manifest.Listings));
        Assert.Equal((30, 20_000L - 30 - 3, 3L), (manifest.Classified, manifest.Reused, manifest.Removed));
        Assert.Equal(folder.PredictionsSha256, manifest.PredictionsSha256);
        Assert.Equal(folder.Changes, manifest.Changes);
    }

    [Fact]
    public async Task Rescoring_an_unchanged_dataset_sends_nothing()
    {
        var storage = new SimulatedStorage(5_000);

        var result = await IncrementalScenario.RunAsync(storage, [], CancellationToken.None);

        Assert.Equal((0, 0, 5_000L, 5_000L, 0L), (result.ImageReads, result.Classified, result.Reused, result.PredictionLines, result.ChangeLines));
    }
}
