using EfficientNet.Batch.Contracts;
using MassTransit;
using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EfficientNet.Batch.ServiceDefaults;

/// <summary>What every host shares: telemetry, health checks and the bus.</summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";

    /// <summary>Liveness: the process serves HTTP. Deployments (compose, the Helm chart) probe this path.</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>Readiness: every health check passes (the bus; on workers, the preloaded models).</summary>
    public const string ReadinessPath = "/readyz";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(InstrumentationOptions.MeterName, TelemetryNames.Meter))
            .WithTracing(tracing => tracing
                .AddSource(DiagnosticHeaders.DefaultListenerName, TelemetryNames.ActivitySource)
                .AddAspNetCoreInstrumentation(options => options.Filter = context =>
                    !context.Request.Path.StartsWithSegments(LivenessPath) && !context.Request.Path.StartsWithSegments(ReadinessPath))
                .AddHttpClientInstrumentation());

        // OTLP only when an endpoint is configured; otherwise the SDK collects without exporting.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>MassTransit on RabbitMQ, or in memory for the embedded run; <paramref name="consumers"/> adds this host's consumers.</summary>
    public static IHostApplicationBuilder AddBatchBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> consumers)
    {
        builder.Services.AddOptions<MessagingOptions>()
            .BindConfiguration(MessagingOptions.SectionName)
            .PostConfigure(options => options.RabbitMqUri ??= builder.Configuration["RABBITMQ_URI"])
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsAnnotationsValidator>());

        var transport = builder.Configuration.GetValue($"{MessagingOptions.SectionName}:{nameof(MessagingOptions.Transport)}", MessagingTransport.RabbitMq);
        if (transport == MessagingTransport.InMemory)
        {
            builder.Services.AddSingleton<IQueueDeclarer, InMemoryQueueDeclarer>();
        }
        else
        {
            builder.Services.AddSingleton<IQueueDeclarer, RabbitMqQueueDeclarer>();
        }

        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.4+ reports usage telemetry (bus, transport and endpoint details, the host's cloud provider) to
            // usage-tracking.masstransit.io by default. Off, as ONNX Runtime's is; MASSTRANSIT_USAGE_TELEMETRY=true, which
            // MassTransit reads over this setting, turns it back on.
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            consumers(bus);
            if (transport == MessagingTransport.InMemory)
            {
                bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            }
            else
            {
                bus.UsingRabbitMq((context, cfg) =>
                {
                    var options = context.GetRequiredService<IOptions<MessagingOptions>>().Value;
                    cfg.Host(new Uri(options.RabbitMqUri!));
                    cfg.ConfigureEndpoints(context);
                });
            }
        });
        return builder;
    }

    /// <summary><c>/healthz</c>: the process lives. <c>/readyz</c>: every check (the bus included) is healthy. Both
    /// answer without credentials (probes have none), and say only Healthy / Degraded / Unhealthy.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) }).AllowAnonymous();
        app.MapHealthChecks(ReadinessPath).AllowAnonymous();
        return app;
    }
}
