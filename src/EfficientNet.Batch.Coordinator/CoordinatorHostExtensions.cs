using System.Text.Json.Serialization;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.Coordinator.Security;
using EfficientNet.Batch.ServiceDefaults;
using Scalar.AspNetCore;

namespace EfficientNet.Batch.Coordinator;

public static class CoordinatorHostExtensions
{
    public static IHostApplicationBuilder AddCoordinator(this IHostApplicationBuilder builder)
    {
        builder.AddCoordinatorComponents();
        builder.AddCoordinatorSecurity();
        builder.AddBatchBus(bus => bus.AddCoordinatorConsumers());
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        // A body or parameter that cannot be bound throws, so ProblemExceptionHandler can say where and why.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "EfficientNet.Batch coordinator";
            document.Info.Description = "Bulk image labeling jobs: submit, follow, list, cancel and delete. Every route but " +
                "/healthz and /readyz needs an X-API-Key header (or a bearer token when the coordinator accepts them).";
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.ApiKey,
                In = Microsoft.OpenApi.ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "An API key; the coordinator stores only its SHA-256 (Auth:ApiKeys).",
            };
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
        app.UseCoordinatorSecurity();
        app.MapDefaultEndpoints();
        app.MapJobsApi();
        app.MapSchedulesApi();
        var protect = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value.ProtectApiReference;
        var openApi = app.MapOpenApi();
        var reference = app.MapScalarApiReference();
        if (!protect)
        {
            openApi.AllowAnonymous();
            reference.AllowAnonymous();
        }

        return app;
    }
}
