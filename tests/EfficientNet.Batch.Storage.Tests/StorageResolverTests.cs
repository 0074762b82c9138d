using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Storage.Tests;

public sealed class StorageResolverTests : IDisposable
{
    private const string DevelopmentConnectionString = "UseDevelopmentStorage=true";
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-resolver-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_folder_is_the_store_root_and_the_same_store_is_reused()
    {
        var resolver = Resolver(connectionString: null);

        var first = resolver.Resolve(_root);
        var second = resolver.Resolve("file://" + _root + "/");

        Assert.Equal("", first.Prefix);
        Assert.Same(first.Store, second.Store);
        Assert.Equal(_root, Assert.IsType<FileSystemBlobStore>(first.Store).RootDirectory);
    }

    [Fact]
    public async Task A_file_resolves_to_its_folder_as_root_and_its_name_as_prefix()
    {
        var manifest = Path.Combine(_root, "list's.csv");
        await File.WriteAllTextAsync(manifest, "a.jpg\n");
        var resolver = Resolver(connectionString: null);

        var resolved = resolver.Resolve(manifest);

        Assert.Equal("list's.csv", resolved.Prefix);
        Assert.Same(resolver.Resolve(_root).Store, resolved.Store);
        Assert.Equal("file://" + manifest, resolved.Describe());
    }

    [Fact]
    public void Azure_locations_share_one_store_per_container_and_render_back()
    {
        var resolver = Resolver(DevelopmentConnectionString);

        var results = resolver.Resolve("az://results/job-1");
        var sameContainer = resolver.Resolve("az://results/job-2");

        Assert.Same(results.Store, sameContainer.Store);
        Assert.NotSame(results.Store, resolver.Resolve("az://datasets").Store);
        Assert.Equal("job-1/summary.json", results.KeyFor("summary.json"));
        Assert.Equal("az://results/job-1/shards/0003.jsonl", results.Child("shards").Describe("0003.jsonl"));
        Assert.Equal("az://results/job-1", results.Describe());
    }

    [Fact]
    public void An_azure_location_without_a_connection_string_names_the_missing_setting()
    {
        var resolver = Resolver(connectionString: null);

        var error = Assert.Throws<InvalidOperationException>(() => resolver.Resolve("az://datasets/cats"));

        Assert.Contains("Storage:AzureConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddStorage_takes_the_connection_string_from_the_environment_variable_key_when_the_section_has_none()
    {
        using var host = BuildHost(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = DevelopmentConnectionString });

        Assert.Equal(DevelopmentConnectionString, host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.AzureConnectionString);
        Assert.IsType<AzureBlobStore>(host.Services.GetRequiredService<IStorageResolver>().Resolve("az://datasets").Store);
        Assert.NotNull(host.Services.GetRequiredService<DatasetReader>());
    }

    [Fact]
    public async Task A_malformed_connection_string_stops_the_host_at_start_naming_the_setting()
    {
        using var host = BuildHost(new() { ["Storage:AzureConnectionString"] = "this is not a connection string" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Storage:AzureConnectionString", error.Message, StringComparison.Ordinal);
    }

    private static StorageResolver Resolver(string? connectionString) =>
        new(Options.Create(new StorageOptions { AzureConnectionString = connectionString }));

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddStorage();
        return builder.Build();
    }
}
