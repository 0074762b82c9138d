using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Coordinator: a shard started or was skipped (live progress; a cancelled job closes once all are skipped).</summary>
public sealed class ShardProgressConsumer(ShardOutcomeRecorder recorder) : IConsumer<ShardStarted>, IConsumer<ShardSkipped>
{
    public Task Consume(ConsumeContext<ShardStarted> context) => recorder.OnStartedAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<ShardSkipped> context) => recorder.OnSkippedAsync(context.Message, context.CancellationToken);
}
