using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Puts shard commands on the bus (one message per shard).</summary>
public interface IShardDispatcher
{
    Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, CancellationToken cancellationToken);
}

/// <summary>Tells the world that a job finished.</summary>
public interface IJobEventPublisher
{
    Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken);
}
