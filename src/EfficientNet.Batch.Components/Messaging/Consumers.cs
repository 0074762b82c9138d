using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Well-known queue names, shared by the coordinator (sender) and the workers (consumers).</summary>
public static class QueueNames
{
    public const string ClassifyShard = "classify-shard";
    public const string SubmitJob = "submit-job";
}

/// <summary>Worker: classifies a shard and announces its result.</summary>
public sealed class ClassifyShardConsumer(ShardClassifier classifier) : IConsumer<ClassifyShard>
{
    public async Task Consume(ConsumeContext<ClassifyShard> context)
    {
        if (context.SentTime is { } sent)
        {
            BatchMetrics.ShardQueueWait.Record(Math.Max(0, (DateTime.UtcNow - sent).TotalSeconds));
        }

        var classified = await classifier.ClassifyAsync(context.Message, context.CancellationToken);
        await context.Publish(classified, context.CancellationToken);
    }
}

/// <summary>Coordinator: lists and shards a submitted job.</summary>
public sealed class SubmitJobConsumer(JobCoordinator coordinator) : IConsumer<SubmitJob>
{
    public Task Consume(ConsumeContext<SubmitJob> context) => coordinator.DispatchAsync(context.Message.JobId, context.CancellationToken);
}

/// <summary>Coordinator: records a finished shard and merges the job when it was the last.</summary>
public sealed class ShardClassifiedConsumer(JobCoordinator coordinator) : IConsumer<ShardClassified>
{
    public Task Consume(ConsumeContext<ShardClassified> context) => coordinator.OnShardClassifiedAsync(context.Message, context.CancellationToken);
}

/// <summary>Coordinator: a shard exhausted its retries; its images are reported as errors and the job goes on.</summary>
public sealed class ClassifyShardFaultConsumer(JobCoordinator coordinator) : IConsumer<Fault<ClassifyShard>>
{
    public Task Consume(ConsumeContext<Fault<ClassifyShard>> context)
    {
        var reason = context.Message.Exceptions is { Length: > 0 } exceptions
            ? $"{exceptions[0].ExceptionType}: {exceptions[0].Message}"
            : "unknown error";
        return coordinator.OnShardFaultedAsync(context.Message.Message, reason, context.CancellationToken);
    }
}

/// <summary>Sends shard commands to the workers' queue (created on first send, so no shard is lost before a worker
/// has started).</summary>
public sealed class BusShardDispatcher(ISendEndpointProvider endpoints) : IShardDispatcher
{
    public async Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, CancellationToken cancellationToken)
    {
        var endpoint = await endpoints.GetSendEndpoint(new Uri($"queue:{QueueNames.ClassifyShard}"));
        await endpoint.SendBatch(shards, cancellationToken);
    }
}

public sealed class BusJobEventPublisher(IPublishEndpoint publisher) : IJobEventPublisher
{
    public Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken) => publisher.Publish(completed, cancellationToken);
}
