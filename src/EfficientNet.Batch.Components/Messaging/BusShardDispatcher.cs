using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.ServiceDefaults;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Sends shard commands to the workers' priority queue, declared before the first send so that no shard is
/// lost before a worker has started.</summary>
public sealed class BusShardDispatcher(IBus bus, IQueueDeclarer queues) : IShardDispatcher
{
    public async Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, JobPriority priority, CancellationToken cancellationToken)
    {
        await queues.EnsurePriorityQueueAsync(QueueNames.ClassifyShard, ShardPriority.MaxPriority, cancellationToken);
        var endpoint = await bus.GetSendEndpoint(new Uri($"exchange:{QueueNames.ClassifyShard}")).WaitAsync(cancellationToken);
        var level = ShardPriority.Of(priority);
        await endpoint.SendBatch(shards, context => context.TrySetPriority(level), cancellationToken);
    }
}
