using MassTransit;

namespace EfficientNet.Batch.Components.Messaging;

/// <summary>Coordinator state writes use optimistic concurrency: conflicts and storage blips are retried quickly.</summary>
internal static class StateWriteRetry
{
    public static void Configure(IRetryConfigurator retry) => retry.Intervals(
        TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
}
