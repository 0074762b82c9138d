using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Shards;

/// <summary>One page of a job's stored shard plan: the images of shards <see cref="FirstShard"/> onwards, in order.</summary>
public sealed record ShardPlanPage(int Page, int FirstShard, IReadOnlyList<IReadOnlyList<ShardImage>> Shards);

/// <summary>
/// Stores a job's shard plan while its images arrive: <see cref="ShardPlanner"/> cuts them into shards, and every
/// <see cref="ShardsPerPage"/> shards are written as one page, so a job's plan is never whole in memory, however large
/// its dataset.
/// </summary>
public sealed class ShardPlanWriter(JobStateStore state, Guid jobId, int shardSize)
{
    /// <summary>Shards per stored page: 64 × 256 images ≈ 1 MB of JSON per page at the default shard size.</summary>
    public const int ShardsPerPage = 64;

    private ShardPlanner _planner = new(shardSize);
    private readonly List<IReadOnlyList<ShardImage>> _page = new(ShardsPerPage);

    public long Images { get; private set; }

    public int Shards { get; private set; }

    public int Pages { get; private set; }

    public async Task AddAsync(IEnumerable<ShardImage> images, CancellationToken cancellationToken)
    {
        foreach (var image in images)
        {
            Images++;
            if (_planner.Add(image) is { } shard)
            {
                await AddShardAsync(shard, cancellationToken);
            }
        }
    }

    /// <summary>Starts the plan again from its first shard (pages already stored are overwritten as the new plan reaches
    /// them; any beyond its end are never read, and go with the plan).</summary>
    public void Restart()
    {
        _planner = new ShardPlanner(shardSize);
        _page.Clear();
        Images = 0;
        Shards = 0;
        Pages = 0;
    }

    /// <summary>Stores the last, partial shard and page.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_planner.Complete() is { } last)
        {
            await AddShardAsync(last, cancellationToken);
        }

        if (_page.Count > 0)
        {
            await WritePageAsync(cancellationToken);
        }
    }

    private async Task AddShardAsync(IReadOnlyList<ShardImage> shard, CancellationToken cancellationToken)
    {
        _page.Add(shard);
        Shards++;
        if (_page.Count == ShardsPerPage)
        {
            await WritePageAsync(cancellationToken);
        }
    }

    private async Task WritePageAsync(CancellationToken cancellationToken)
    {
        await state.WritePlanPageAsync(jobId, new ShardPlanPage(Pages, Shards - _page.Count, [.. _page]), cancellationToken);
        _page.Clear();
        Pages++;
    }
}
