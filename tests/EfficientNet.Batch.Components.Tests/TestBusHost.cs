using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>A worker on MassTransit's in-memory test harness, and with <c>coordinator</c> settings a coordinator in the
/// same host, for the tests that run shards through the real consumers.</summary>
internal static class TestBusHost
{
    public static IHost Build(Dictionary<string, string?> worker, Dictionary<string, string?>? coordinator = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(worker);
        if (coordinator is not null)
        {
            builder.Configuration.AddInMemoryCollection(coordinator);
            builder.AddCoordinatorComponents();
        }

        builder.AddWorkerComponents();
        // A loaded machine may take its time to start the bus; tests that time a fault time it themselves.
        builder.Services.Configure<TestHarnessOptions>(o => o.TestTimeout = TimeSpan.FromMinutes(2));
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            if (coordinator is not null)
            {
                bus.AddCoordinatorConsumers();
            }

            bus.AddWorkerConsumers();
        });
        return builder.Build();
    }
}
