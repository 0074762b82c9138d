namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Well-known queue names, shared by the coordinator (sender) and the workers (consumers).</summary>
public static class QueueNames
{
    /// <summary>The workers' shard queue: a RabbitMQ priority queue (<see cref="ShardPriority.MaxPriority"/>), one for
    /// every job, so that a queue-length autoscaler sees the whole backlog.</summary>
    public const string ClassifyShard = "classify-shard";

    public const string SubmitJob = "submit-job";
}
