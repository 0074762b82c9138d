using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Tests;

public sealed class ShardPlannerTests
{
    private static IReadOnlyList<ShardImage> Images(int count) =>
        Enumerable.Range(0, count).Select(i => new ShardImage($"img-{i:D4}.jpg", i % 3 == 0 ? i : null)).ToList();

    [Theory]
    [InlineData(0, 256, 0)]
    [InlineData(1, 256, 1)]
    [InlineData(256, 256, 1)]
    [InlineData(257, 256, 2)]
    [InlineData(1000, 256, 4)]
    [InlineData(1005, 1, 1005)]
    public void Shard_count_is_the_ceiling_of_images_over_shard_size(int images, int shardSize, int expectedShards)
    {
        var shards = ShardPlanner.Plan(Images(images), shardSize);

        Assert.Equal(expectedShards, shards.Count);
        Assert.All(shards.SkipLast(1), s => Assert.Equal(shardSize, s.Count));
    }

    [Fact]
    public void Every_image_lands_in_exactly_one_shard_in_dataset_order()
    {
        var images = Images(1000);

        var flattened = ShardPlanner.Plan(images, 37).SelectMany(s => s).ToList();

        Assert.Equal(images, flattened);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(10_001)]
    public void Shard_size_outside_the_allowed_range_is_refused(int shardSize)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPlanner.Plan(Images(3), shardSize));
    }

    [Fact]
    public void Result_names_are_deterministic_and_sort_in_shard_order()
    {
        var job = Guid.Parse("0b5b4c4e-8a52-4f43-9d4c-2b7b1f6e9a01");
        Assert.Equal("shards/0b5b4c4e8a524f439d4c2b7b1f6e9a01/shard-000007.jsonl", JobOutputLayout.ResultKey(job, 7));
        Assert.NotEqual(JobOutputLayout.ResultKey(job, 7), JobOutputLayout.ResultKey(Guid.NewGuid(), 7));
        Assert.NotEqual(JobOutputLayout.ResultKey(job, 7), JobOutputLayout.FailedResultKey(job, 7));
        var names = Enumerable.Range(0, 1200).Select(i => JobOutputLayout.ResultKey(job, i)).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }
}
