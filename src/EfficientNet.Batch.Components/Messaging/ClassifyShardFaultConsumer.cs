using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Coordinator: a shard exhausted its retries; its images are reported as errors and the job goes on.</summary>
public sealed class ClassifyShardFaultConsumer(ShardOutcomeRecorder recorder) : IConsumer<Fault<ClassifyShard>>
{
    public Task Consume(ConsumeContext<Fault<ClassifyShard>> context)
    {
        var reason = context.Message.Exceptions is { Length: > 0 } exceptions
            ? $"{exceptions[0].ExceptionType}: {exceptions[0].Message}"
            : "unknown error";
        return recorder.OnFaultedAsync(context.Message.Message, reason, context.CancellationToken);
    }
}
