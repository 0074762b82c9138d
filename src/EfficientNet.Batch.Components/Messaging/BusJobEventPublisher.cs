using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

public sealed class BusJobEventPublisher(IBus bus) : IJobEventPublisher
{
    public Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken) => bus.Publish(completed, cancellationToken);

    public Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken) => bus.Publish(cancelled, cancellationToken);
}
