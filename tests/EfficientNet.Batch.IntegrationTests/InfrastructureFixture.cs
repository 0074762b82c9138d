using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Testcontainers.RabbitMq;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// Real RabbitMQ and Azure Blob (Azurite), started once per test run. Addresses come from RABBITMQ_URI and
/// AZURE_STORAGE_CONNECTION_STRING when set (CI and scripts/test.sh set them), else from Testcontainers; without
/// either, the tests fail loudly rather than skip.
/// </summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account key.</summary>
    internal const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private RabbitMqContainer? _rabbit;
    private IContainer? _azurite;

    public string RabbitMqUri { get; private set; } = "";

    public string AzureConnectionString { get; private set; } = "";

    /// <summary>The RabbitMQ container this fixture started (null when RABBITMQ_URI named a broker), for the tests that
    /// stop and start the broker (<see cref="BrokerControl"/>).</summary>
    internal RabbitMqContainer? RabbitMqContainer => _rabbit;

    public async Task InitializeAsync()
    {
        RabbitMqUri = Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "";
        if (RabbitMqUri.Length == 0)
        {
            _rabbit = new RabbitMqBuilder("rabbitmq:3.13.7-alpine").Build();
            await _rabbit.StartAsync();
            RabbitMqUri = _rabbit.GetConnectionString();
        }

        AzureConnectionString = Environment.GetEnvironmentVariable("AZURE_STORAGE_CONNECTION_STRING") ?? "";
        if (AzureConnectionString.Length == 0)
        {
            _azurite = new ContainerBuilder("mcr.microsoft.com/azure-storage/azurite:3.35.0")
                .WithCommand("azurite-blob", "--blobHost", "0.0.0.0", "--skipApiVersionCheck", "--inMemoryPersistence", "--disableTelemetry")
                .WithPortBinding(10000, true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(10000))
                .Build();
            await _azurite.StartAsync();
            var port = _azurite.GetMappedPublicPort(10000);
            AzureConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
                $"AccountKey={AzuriteAccountKey};BlobEndpoint=http://{_azurite.Hostname}:{port}/devstoreaccount1;";
        }
    }

    public async Task DisposeAsync()
    {
        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InfrastructureCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "infrastructure";
}
