using EfficientNet.Batch.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

public sealed class BusRegistrationTests
{
    [Theory]
    [InlineData("InMemory")]
    [InlineData("RabbitMq")]
    public void The_bus_sends_masstransit_no_usage_telemetry(string transport)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = transport,
            ["Messaging:RabbitMqUri"] = "amqp://guest:guest@localhost:5672/",
        });
        builder.AddBatchBus(_ => { });
        using var host = builder.Build();

        Assert.False(host.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }
}
