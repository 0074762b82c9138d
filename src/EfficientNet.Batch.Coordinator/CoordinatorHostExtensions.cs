using System.Text.Json.Serialization;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.ServiceDefaults;

namespace EfficientNet.Batch.Coordinator;

public static class CoordinatorHostExtensions
{
    public static IHostApplicationBuilder AddCoordinator(this IHostApplicationBuilder builder)
    {
        builder.AddCoordinatorComponents();
        builder.AddBatchBus(bus => bus.AddCoordinatorConsumers());
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddProblemDetails();
        return builder;
    }
}
