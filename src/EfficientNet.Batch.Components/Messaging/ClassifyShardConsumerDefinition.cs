using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Retry, concurrency, prefetch and the priority queue of the workers' shard endpoint, in one place.</summary>
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
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            // The same arguments as the coordinator's declaration (IQueueDeclarer): RabbitMQ refuses a redeclaration
            // with different ones.
            rabbit.EnablePriority(ShardPriority.MaxPriority);
        }

        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
            // Retrying cannot make an unknown model or missing weights appear: fail the shard at once.
            retry.Ignore<UnknownModelException>();
            retry.Ignore<ModelNotAvailableException>();
            retry.Ignore<RemoteModelNotFoundException>();
            retry.Ignore<ModelHashMismatchException>();
            retry.Ignore<ArgumentException>();
            // Nor can it move a shard inside the worker's location policy.
            retry.Ignore<LocationRefusedException>();
            // Nor undo the deliveries a shard has had.
            retry.Ignore<ShardDeliveryLimitException>();
        });
    }
}
