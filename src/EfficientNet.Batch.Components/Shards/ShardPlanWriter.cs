using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Shards;

/// <summary>One page of a job's stored shard plan: the images of shards <see cref="FirstShard"/> onwards, in order.</summary>
public sealed record ShardPlanPage(int Page, int FirstShard, IReadOnlyList<IReadOnlyList<ShardImage>> Shards);

/// <summary>
/// Cuts a stream of images into shards of at most <c>shardSize</c> images, in dataset order (as <see cref="ShardPlanner"/>
/// does for a list), and stores them as pages of <see cref="ShardsPerPage"/> shards while the images arrive: a job's plan
/// is never whole in memory, however large its dataset.
/// </summary>
public sealed class ShardPlanWriter
{
    /// <summary>Shards per stored page: 64 × 256 images ≈ 1 MB of JSON per page at the default shard size.</summary>
    public const int ShardsPerPage = 64;

    private readonly JobStateStore _state;
    private readonly Guid _jobId;
    private readonly int _shardSize;
    private readonly List<IReadOnlyList<ShardImage>> _page = new(ShardsPerPage);
    private List<ShardImage> _shard;

    public ShardPlanWriter(JobStateStore state, Guid jobId, int shardSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardSize, ShardPlanner.MinShardSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shardSize, ShardPlanner.MaxShardSize);
        (_state, _jobId, _shardSize) = (state, jobId, shardSize);
        _shard = new List<ShardImage>(shardSize);
    }

    public long Images { get; private set; }

    public int Shards { get; private set; }

    public int Pages { get; private set; }

    public async Task AddAsync(IEnumerable<ShardImage> images, CancellationToken cancellationToken)
    {
        foreach (var image in images)
        {
            _shard.Add(image);
            Images++;
            if (_shard.Count == _shardSize)
            {
                await CloseShardAsync(cancellationToken);
            }
        }
    }

    /// <summary>Stores the last, partial shard and page.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_shard.Count > 0)
        {
            await CloseShardAsync(cancellationToken);
        }

        if (_page.Count > 0)
        {
            await WritePageAsync(cancellationToken);
        }
    }

    private async Task CloseShardAsync(CancellationToken cancellationToken)
    {
        _page.Add(_shard);
        _shard = new List<ShardImage>(_shardSize);
        Shards++;
        if (_page.Count == ShardsPerPage)
        {
            await WritePageAsync(cancellationToken);
        }
    }

    private async Task WritePageAsync(CancellationToken cancellationToken)
    {
        await _state.WritePlanPageAsync(_jobId, new ShardPlanPage(Pages, Shards - _page.Count, [.. _page]), cancellationToken);
        _page.Clear();
        Pages++;
    }
}
