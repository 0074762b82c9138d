using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Every worker must hear a cancel, so each has its own temporary queue for it (deleted when it stops); a worker
/// that starts later finds the job's cancel marker instead.</summary>
public sealed class JobCancelledConsumerDefinition : ConsumerDefinition<JobCancelledConsumer>
{
    public JobCancelledConsumerDefinition() =>
        Endpoint(endpoint =>
        {
            endpoint.InstanceId = NewId.NextGuid().ToString("N")[..12];
            endpoint.Temporary = true;
        });
}
