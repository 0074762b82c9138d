using EfficientNet.Batch.Components;
using EfficientNet.Batch.ServiceDefaults;

namespace EfficientNet.Batch.Worker;

public static class WorkerHostExtensions
{
    public static IHostApplicationBuilder AddWorker(this IHostApplicationBuilder builder)
    {
        builder.AddWorkerComponents();
        builder.AddBatchBus(bus => bus.AddWorkerConsumers());
        return builder;
    }
}
