using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Retry, concurrency and prefetch of the workers' shard endpoint, in one place.</summary>
public sealed class ClassifyShardConsumerDefinition : ConsumerDefinition<ClassifyShardConsumer>
{
    private readonly WorkerOptions _options;

    public ClassifyShardConsumerDefinition(IOptions<WorkerOptions> options)
    {
        _options = options.Value;
        EndpointName = QueueNames.ClassifyShard;
        ConcurrentMessageLimit = _options.ConcurrentShards;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ClassifyShardConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.PrefetchCount;
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
            // Retrying cannot make an unknown model or missing weights appear: fail the shard at once.
            retry.Ignore<UnknownModelException>();
            retry.Ignore<ModelNotAvailableException>();
            retry.Ignore<RemoteModelNotFoundException>();
            retry.Ignore<ModelHashMismatchException>();
            retry.Ignore<ArgumentException>();
        });
    }
}

public sealed class SubmitJobConsumerDefinition : ConsumerDefinition<SubmitJobConsumer>
{
    public SubmitJobConsumerDefinition()
    {
        EndpointName = QueueNames.SubmitJob;
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SubmitJobConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<BlobNotFoundException>();
            retry.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        });
    }
}

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

public sealed class ClassifyShardFaultConsumerDefinition : ConsumerDefinition<ClassifyShardFaultConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ClassifyShardFaultConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(StateWriteRetry.Configure);
}

/// <summary>Coordinator state writes use optimistic concurrency: conflicts and storage blips are retried quickly.</summary>
internal static class StateWriteRetry
{
    public static void Configure(IRetryConfigurator retry) => retry.Intervals(
        TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
}
