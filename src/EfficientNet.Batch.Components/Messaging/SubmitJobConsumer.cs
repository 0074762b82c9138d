using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Coordinator: lists and shards a submitted job.</summary>
public sealed class SubmitJobConsumer(JobDispatcher dispatcher) : IConsumer<SubmitJob>
{
    public Task Consume(ConsumeContext<SubmitJob> context) => dispatcher.DispatchAsync(context.Message.JobId, context.CancellationToken);
}
