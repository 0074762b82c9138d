using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Worker: classifies a shard (or skips it when its job is cancelled) and announces what happened.</summary>
public sealed class ClassifyShardConsumer(ShardExecution execution) : IConsumer<ClassifyShard>
{
    public async Task Consume(ConsumeContext<ClassifyShard> context)
    {
        if (context.SentTime is { } sent)
        {
            BatchMetrics.ShardQueueWait.Record(Math.Max(0, (DateTime.UtcNow - sent).TotalSeconds));
        }

        // A retry of this delivery (MassTransit's retry filter, same process) is no new delivery.
        var newDelivery = context.GetRetryAttempt() == 0;
        var result = await execution.RunAsync(context.Message, newDelivery, started => context.Publish(started, context.CancellationToken), context.CancellationToken);
        await (result.Classified is { } classified
            ? context.Publish(classified, context.CancellationToken)
            : context.Publish(result.Skipped!, context.CancellationToken));
    }
}
