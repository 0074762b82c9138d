using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Coordinator state writes use optimistic concurrency: conflicts and storage blips are retried quickly.</summary>
internal static class StateWriteRetry
{
    public static void Configure(IRetryConfigurator retry) => retry.Intervals(
        TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
}

/// <summary>The coordinator's shard-event endpoints: a few events at once, state-write retries.</summary>
public abstract class StateWriteConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    protected StateWriteConsumerDefinition() => ConcurrentMessageLimit = 8;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(StateWriteRetry.Configure);
}
