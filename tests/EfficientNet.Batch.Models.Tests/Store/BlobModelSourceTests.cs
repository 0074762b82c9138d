using System.Collections.Concurrent;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Download;

namespace EfficientNet.Batch.Models.Tests.Store;

public sealed class BlobModelSourceTests : IDisposable
{
    private const string Model = "efficientnet_es";
    private readonly TempDirectory _temp = new();
    private readonly ConcurrentDictionary<string, byte[]> _remote = new(StringComparer.Ordinal);
    private readonly ModelStore _publisherStore;
    private readonly ModelStore _workerStore;

    public BlobModelSourceTests()
    {
        _publisherStore = new ModelStore(_temp.Sub("publisher"));
        _workerStore = new ModelStore(_temp.Sub("worker"));
    }

    public void Dispose() => _temp.Dispose();

    private BlobModelSource Source(ModelStore store) => new(store, OpenAsync, UploadAsync);

    private Task<Stream?> OpenAsync(string key, CancellationToken ct) =>
        Task.FromResult<Stream?>(_remote.TryGetValue(key, out var bytes) ? new MemoryStream(bytes, writable: false) : null);

    private async Task UploadAsync(string key, Stream content, CancellationToken ct)
    {
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, ct);
        _remote[key] = copy.ToArray();
    }

    private async Task PublishImportedEsAsync()
    {
        await _publisherStore.ImportAsync(Model, Weights.RandomWeights.Generate(Catalogue.ModelCatalogue.Get(Model).Architecture, 2), "es.pth", "ab", CancellationToken.None);
        await Source(_publisherStore).PublishAsync(Model, CancellationToken.None);
    }

    [Fact]
    public async Task Published_model_is_downloaded_once_into_an_empty_worker_cache()
    {
        await PublishImportedEsAsync();

        var first = await Source(_workerStore).SyncAsync(Model, null, CancellationToken.None);
        var second = await Source(_workerStore).SyncAsync(Model, null, CancellationToken.None);

        Assert.Equal(["efficientnet_es/model.json", "efficientnet_es/model.onnx"], _remote.Keys.Order(StringComparer.Ordinal));
        Assert.True(first.Downloaded);
        Assert.False(second.Downloaded);
        Assert.Equal(await File.ReadAllBytesAsync(_publisherStore.ImportedOnnxPath(Model)), await File.ReadAllBytesAsync(first.Model.OnnxPath));
        Assert.Equal(TestFiles.Sha256(_remote["efficientnet_es/model.onnx"]), first.Model.OnnxSha256);
        Assert.Contains("es.pth", first.Model.WeightsDescription, StringComparison.Ordinal);
        Assert.True(_workerStore.HasImportedWeights(Model));
    }

    [Fact]
    public async Task Local_copy_with_another_hash_is_replaced()
    {
        await PublishImportedEsAsync();
        await Source(_workerStore).SyncAsync(Model, null, CancellationToken.None);
        await File.WriteAllBytesAsync(_workerStore.ImportedOnnxPath(Model), [1, 2, 3]);

        var result = await Source(_workerStore).SyncAsync(Model, null, CancellationToken.None);

        Assert.True(result.Downloaded);
        Assert.Equal(_remote["efficientnet_es/model.onnx"], await File.ReadAllBytesAsync(result.Model.OnnxPath));
    }

    [Fact]
    public async Task Shared_file_that_does_not_match_its_manifest_is_not_installed()
    {
        await PublishImportedEsAsync();
        var tampered = _remote["efficientnet_es/model.onnx"].ToArray();
        tampered[^1] ^= 0xFF;
        _remote["efficientnet_es/model.onnx"] = tampered;

        await Assert.ThrowsAsync<ModelHashMismatchException>(() => Source(_workerStore).SyncAsync(Model, null, CancellationToken.None));

        Assert.False(_workerStore.HasImportedWeights(Model));
        Assert.Empty(TestFiles.FilesUnder(_workerStore.Root));
    }

    [Fact]
    public async Task Model_missing_from_the_shared_store_is_reported_by_key()
    {
        var error = await Assert.ThrowsAsync<RemoteModelNotFoundException>(() => Source(_workerStore).SyncAsync(Model, null, CancellationToken.None));

        Assert.Equal("efficientnet_es/model.json", error.Key);
    }

    [Fact]
    public async Task Manifest_of_another_model_is_refused()
    {
        await PublishImportedEsAsync();
        _remote["efficientnet_em/model.json"] = _remote["efficientnet_es/model.json"];

        await Assert.ThrowsAsync<InvalidDataException>(() => Source(_workerStore).SyncAsync("efficientnet_em", null, CancellationToken.None));

        Assert.Empty(TestFiles.FilesUnder(_workerStore.Root));
    }

    [Fact]
    public async Task Corrupt_local_model_is_not_published()
    {
        await _publisherStore.ImportAsync(Model, Weights.RandomWeights.Generate(Catalogue.ModelCatalogue.Get(Model).Architecture, 2), "es.pth", "ab", CancellationToken.None);
        await File.WriteAllBytesAsync(_publisherStore.ImportedOnnxPath(Model), [9, 9, 9]);

        await Assert.ThrowsAsync<ModelHashMismatchException>(() => Source(_publisherStore).PublishAsync(Model, CancellationToken.None));

        Assert.Empty(_remote);
    }
}
