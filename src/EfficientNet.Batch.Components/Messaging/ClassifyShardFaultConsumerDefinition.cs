using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

public sealed class ClassifyShardFaultConsumerDefinition : ConsumerDefinition<ClassifyShardFaultConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ClassifyShardFaultConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(StateWriteRetry.Configure);
}
