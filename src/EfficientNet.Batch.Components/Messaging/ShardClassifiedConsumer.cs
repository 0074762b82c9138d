using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Coordinator: records a finished shard and merges the job when it was the last.</summary>
public sealed class ShardClassifiedConsumer(ShardOutcomeRecorder recorder) : IConsumer<ShardClassified>
{
    public Task Consume(ConsumeContext<ShardClassified> context) => recorder.OnClassifiedAsync(context.Message, context.CancellationToken);
}
