using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>How a job's priority maps onto RabbitMQ message priorities in the shard queue.</summary>
public static class ShardPriority
{
    /// <summary>The queue's <c>x-max-priority</c>. RabbitMQ recommends few levels; three are used.</summary>
    public const byte MaxPriority = 9;

    public static byte Of(JobPriority priority) => priority switch
    {
        JobPriority.Low => 1,
        JobPriority.High => 9,
        _ => 5,
    };
}
