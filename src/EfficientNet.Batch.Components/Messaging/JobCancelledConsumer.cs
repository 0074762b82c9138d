using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Worker: a job was cancelled; stop its running shards and skip its queued ones.</summary>
public sealed class JobCancelledConsumer(CancelledJobs cancelled) : IConsumer<JobCancelled>
{
    public Task Consume(ConsumeContext<JobCancelled> context)
    {
        cancelled.Cancel(context.Message.JobId);
        return Task.CompletedTask;
    }
}
