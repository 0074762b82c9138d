using Azure.Storage.Blobs;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace EfficientNet.Batch.Storage.Tests;

/// <summary>
/// One Azurite for the whole run: the one named by AZURE_STORAGE_CONNECTION_STRING when set (always in CI, where
/// scripts/test.sh starts it), else a container started with Testcontainers. If neither works the tests fail;
/// they never skip.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Pinned: a floating tag would change the service under test without a commit.</summary>
    public const string Image = "mcr.microsoft.com/azure-storage/azurite:3.35.0";

    private const int BlobPort = 10000;

    // Azurite's fixed, publicly documented development account key.
    private const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private IContainer? _container;

    public string ConnectionString { get; private set; } = "";

    public BlobServiceClient Service { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(StorageOptions.ConnectionStringEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            ConnectionString = fromEnvironment;
        }
        else
        {
            _container = new ContainerBuilder(Image)
                .WithCommand("azurite-blob", "--blobHost", "0.0.0.0", "--blobPort", BlobPort.ToString(),
                    "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry")
                .WithPortBinding(BlobPort, assignRandomHostPort: true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("Azurite Blob service is successfully listening"))
                .Build();
            await _container.StartAsync();
            ConnectionString =
                $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentAccountKey};" +
                $"BlobEndpoint=http://{_container.Hostname}:{_container.GetMappedPublicPort(BlobPort)}/devstoreaccount1;";
        }

        Service = new BlobServiceClient(ConnectionString);

        // Fail fast with the address in the message rather than with SDK retries in every test.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await Service.GetPropertiesAsync(timeout.Token);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"Azurite is not reachable at {Service.Uri} (from {StorageOptions.ConnectionStringEnvironmentVariable}" +
                                                $"{(_container is null ? "" : " / Testcontainers")}): {e.Message}", e);
        }
    }

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
