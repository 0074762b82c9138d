using Azure.Storage.Blobs;

namespace EfficientNet.Batch.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStoreTests(AzuriteFixture azurite) : BlobStoreContract
{
    // Unique per test, so tests never see each other's objects.
    private readonly BlobContainerClient _container = azurite.Service.GetBlobContainerClient("t" + Guid.NewGuid().ToString("N"));

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new AzureBlobStore(_container));

    protected override Task DeleteStoreAsync() => _container.DeleteIfExistsAsync();

    [Fact]
    public async Task The_container_is_created_by_the_first_write_not_by_reads()
    {
        Assert.Empty((await Store.ListPageAsync("", null, 10, Ct)).Items);
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("x.txt", Ct));
        Assert.False(await Store.DeleteAsync("x.txt", Ct));
        Assert.False((await _container.ExistsAsync()).Value);

        await WriteTextAsync("x.txt", "x");

        Assert.True((await _container.ExistsAsync()).Value);
    }

    [Fact]
    public void Describe_is_an_az_location_of_the_container()
    {
        Assert.Equal($"az://{_container.Name}/a/b.jpg", Store.Describe("a/b.jpg"));
        Assert.Equal($"az://{_container.Name}", Store.Describe());
    }
}
