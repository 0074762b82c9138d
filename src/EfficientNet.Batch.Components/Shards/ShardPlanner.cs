using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Shards;

/// <summary>
/// Splits a dataset into contiguous shards of at most <c>shardSize</c> images, in dataset order, as its images arrive:
/// <see cref="ShardPlanWriter"/> feeds it a streamed listing, <see cref="Plan"/> a list.
/// </summary>
public sealed class ShardPlanner
{
    public const int MinShardSize = 1;
    public const int MaxShardSize = 10_000;

    private readonly int _shardSize;
    private List<ShardImage> _shard;

    public ShardPlanner(int shardSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardSize, MinShardSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shardSize, MaxShardSize);
        _shardSize = shardSize;
        _shard = new List<ShardImage>(shardSize);
    }

    public static IReadOnlyList<IReadOnlyList<ShardImage>> Plan(IReadOnlyList<ShardImage> images, int shardSize)
    {
        var planner = new ShardPlanner(shardSize);
        var shards = new List<IReadOnlyList<ShardImage>>((images.Count + shardSize - 1) / shardSize);
        foreach (var image in images)
        {
            if (planner.Add(image) is { } shard)
            {
                shards.Add(shard);
            }
        }

        if (planner.Complete() is { } last)
        {
            shards.Add(last);
        }

        return shards;
    }

    /// <summary>Adds the next image; returns the shard it fills, or null while that shard has room.</summary>
    public IReadOnlyList<ShardImage>? Add(ShardImage image)
    {
        _shard.Add(image);
        return _shard.Count == _shardSize ? Take() : null;
    }

    /// <summary>The last, partial shard, or null when the images filled whole shards.</summary>
    public IReadOnlyList<ShardImage>? Complete() => _shard.Count > 0 ? Take() : null;

    private List<ShardImage> Take()
    {
        var shard = _shard;
        _shard = new List<ShardImage>(_shardSize);
        return shard;
    }
}
