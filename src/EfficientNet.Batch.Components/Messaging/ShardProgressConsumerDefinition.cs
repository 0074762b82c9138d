using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

public sealed class ShardProgressConsumerDefinition : ConsumerDefinition<ShardProgressConsumer>
{
    public ShardProgressConsumerDefinition() => ConcurrentMessageLimit = 8;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ShardProgressConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(StateWriteRetry.Configure);
}
