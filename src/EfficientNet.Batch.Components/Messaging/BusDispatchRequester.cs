using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

public sealed class BusDispatchRequester(IBus bus) : IDispatchRequester
{
    public async Task RequestAsync(SubmitJob request, CancellationToken cancellationToken)
    {
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{QueueNames.SubmitJob}")).WaitAsync(cancellationToken);
        await endpoint.Send(request, cancellationToken);
    }
}
