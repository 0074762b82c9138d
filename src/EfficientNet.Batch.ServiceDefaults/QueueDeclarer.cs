using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace EfficientNet.Batch.ServiceDefaults;

/// <summary>
/// Declares a work queue with arguments that MassTransit's send side cannot express (a RabbitMQ priority queue's
/// <c>x-max-priority</c>), exactly as the consumers' receive endpoint declares it: a durable fanout exchange and a
/// durable queue of the same name, bound. A sender that declares the queue this way before its first send loses no
/// message when no consumer has started yet, and never redeclares it with different arguments.
/// </summary>
public interface IQueueDeclarer
{
    /// <summary>Declares the queue once per process (later calls return at once).</summary>
    Task EnsurePriorityQueueAsync(string name, byte maxPriority, CancellationToken cancellationToken);
}

/// <summary>MassTransit's in-memory transport (and its test harness) has no queue arguments: nothing to declare.</summary>
public sealed class InMemoryQueueDeclarer : IQueueDeclarer
{
    public Task EnsurePriorityQueueAsync(string name, byte maxPriority, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class RabbitMqQueueDeclarer(IOptions<MessagingOptions> options) : IQueueDeclarer, IDisposable
{
    private readonly ConcurrentDictionary<string, bool> _declared = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public void Dispose() => _gate.Dispose();

    public async Task EnsurePriorityQueueAsync(string name, byte maxPriority, CancellationToken cancellationToken)
    {
        if (_declared.ContainsKey(name))
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_declared.ContainsKey(name))
            {
                return;
            }

            var factory = new ConnectionFactory { Uri = new Uri(options.Value.RabbitMqUri!), ClientProvidedName = "effnet-queue-declarer" };
            await using var connection = await factory.CreateConnectionAsync(cancellationToken);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(
                name,
                durable: true,
                exclusive: false,
                autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-max-priority"] = (int)maxPriority },
                cancellationToken: cancellationToken);
            await channel.QueueBindAsync(name, name, routingKey: "", cancellationToken: cancellationToken);
            _declared[name] = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
