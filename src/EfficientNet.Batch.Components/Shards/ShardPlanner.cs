using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Shards;

/// <summary>Splits a dataset into contiguous shards of at most <c>shardSize</c> images, in dataset order.</summary>
public static class ShardPlanner
{
    public const int MinShardSize = 1;
    public const int MaxShardSize = 10_000;

    public static IReadOnlyList<IReadOnlyList<ShardImage>> Plan(IReadOnlyList<ShardImage> images, int shardSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardSize, MinShardSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shardSize, MaxShardSize);

        var shards = new List<IReadOnlyList<ShardImage>>((images.Count + shardSize - 1) / shardSize);
        for (var start = 0; start < images.Count; start += shardSize)
        {
            var count = Math.Min(shardSize, images.Count - start);
            var shard = new ShardImage[count];
            for (var i = 0; i < count; i++)
            {
                shard[i] = images[start + i];
            }

            shards.Add(shard);
        }

        return shards;
    }
}
