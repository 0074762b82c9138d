using System.Text.Json.Serialization;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.ServiceDefaults;
using Scalar.AspNetCore;

namespace EfficientNet.Batch.Coordinator;

public static class CoordinatorHostExtensions
{
    public static IHostApplicationBuilder AddCoordinator(this IHostApplicationBuilder builder)
    {
        builder.AddCoordinatorComponents();
        builder.AddBatchBus(bus => bus.AddCoordinatorConsumers());
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        // A body or parameter that cannot be bound throws, so ProblemExceptionHandler can say where and why.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "EfficientNet.Batch coordinator";
            document.Info.Description = "Bulk image labeling jobs: submit, follow, list, cancel and delete.";
            return Task.CompletedTask;
        }));
        return builder;
    }

    /// <summary>The HTTP surface: problem+json for every error, health, the job routes, the OpenAPI document at
    /// <c>/openapi/v1.json</c> and its interactive reference at <c>/scalar</c>.</summary>
    public static WebApplication MapCoordinator(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapDefaultEndpoints();
        app.MapJobsApi();
        app.MapOpenApi();
        app.MapScalarApiReference();
        return app;
    }
}
