using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Shard events: state writes use optimistic concurrency, so conflicts are retried quickly.</summary>
public sealed class ShardClassifiedConsumerDefinition : ConsumerDefinition<ShardClassifiedConsumer>
{
    public ShardClassifiedConsumerDefinition() => ConcurrentMessageLimit = 8;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ShardClassifiedConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(StateWriteRetry.Configure);
}
