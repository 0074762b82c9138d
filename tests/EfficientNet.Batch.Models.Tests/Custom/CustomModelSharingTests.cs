using System.Collections.Concurrent;
using System.Text.Json;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Download;

namespace EfficientNet.Batch.Models.Tests.Custom;

/// <summary>A custom model as workers and users see it once imported: listed with its class count, published to and
/// synced from the shared store with its names.</summary>
public sealed class CustomModelSharingTests : IDisposable
{
    private const string Name = "pets";
    private readonly TempDirectory _temp = new();
    private readonly ConcurrentDictionary<string, byte[]> _remote = new(StringComparer.Ordinal);
    private readonly ModelStore _publisher;
    private readonly ModelStore _worker;

    public CustomModelSharingTests()
    {
        _publisher = new ModelStore(_temp.Sub("publisher"));
        _worker = new ModelStore(_temp.Sub("worker"));
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

    private async Task<ResolvedModel> ImportPetsAsync(ModelStore store)
    {
        var names = CustomModelFiles.WriteNames(_temp, "input/names.txt", CustomModelFiles.PetBreeds);
        var checkpoint = CustomModelFiles.Write(_temp, "input/pets.pth", CustomModelFiles.PetsB0);
        return await new CheckpointImporter(store).ImportCustomFileAsync(Name, "b0", names, checkpoint, null, null, CancellationToken.None);
    }

    [Fact]
    public async Task Custom_model_is_listed_after_the_zoo_with_its_class_count_and_no_seed_figures()
    {
        var imported = await ImportPetsAsync(_publisher);

        var rows = await ModelListing.BuildAsync(_publisher, CancellationToken.None);

        Assert.Equal(27, rows.Count);
        var pets = rows[^1];
        Assert.Equal(Name, pets.Id);
        Assert.True(pets.Custom);
        Assert.Equal(37, pets.ClassCount);
        Assert.Equal("b0", pets.Arch);
        Assert.Equal("custom", pets.Flavour);
        Assert.Equal("imagenet", pets.Normalization);
        Assert.True(pets.WeightsPresent);
        Assert.Null(pets.Top1);
        Assert.Null(pets.SeedParamsMillions);
        Assert.Null(pets.ParameterCountMatchesSeed);
        Assert.Equal(imported.Variant.Architecture.ParameterCount, pets.ParameterCount);
        Assert.All(rows.Take(26), r => Assert.Equal(1000, r.ClassCount));
        // `effnet models list --json` serialises the rows: the custom one must not break it.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(rows));
        Assert.Equal(37, json.RootElement[26].GetProperty("ClassCount").GetInt32());
    }

    [Fact]
    public async Task Custom_model_is_published_with_its_names_and_synced_into_an_empty_worker_store()
    {
        var imported = await ImportPetsAsync(_publisher);
        await Source(_publisher).PublishAsync(Name, CancellationToken.None);

        var first = await Source(_worker).SyncAsync("PETS", null, CancellationToken.None);
        var second = await Source(_worker).SyncAsync(Name, null, CancellationToken.None);

        Assert.Equal(["pets/classes.txt", "pets/model.json", "pets/model.onnx"], _remote.Keys.Order(StringComparer.Ordinal));
        Assert.True(first.Downloaded);
        Assert.False(second.Downloaded);
        Assert.Equal(CustomModelFiles.PetBreeds, first.Model.ClassNames);
        Assert.Equal(imported.OnnxSha256, first.Model.OnnxSha256);
        Assert.True(first.Model.Variant.IsCustom);
        Assert.Equal(CustomModelFiles.PetBreeds, (await _worker.ResolveAsync(Name, null, CancellationToken.None)).ClassNames);
    }

    [Fact]
    public async Task Worker_with_other_local_names_downloads_the_shared_ones()
    {
        await ImportPetsAsync(_publisher);
        await Source(_publisher).PublishAsync(Name, CancellationToken.None);
        await Source(_worker).SyncAsync(Name, null, CancellationToken.None);
        await File.WriteAllTextAsync(_worker.ClassNamesPath(Name), string.Concat(CustomModelFiles.PetBreeds.Reverse().Select(n => n + "\n")));

        var result = await Source(_worker).SyncAsync(Name, null, CancellationToken.None);

        Assert.True(result.Downloaded);
        Assert.Equal(CustomModelFiles.PetBreeds, result.Model.ClassNames);
    }

    [Fact]
    public async Task Shared_names_that_do_not_match_their_manifest_are_not_installed()
    {
        await ImportPetsAsync(_publisher);
        await Source(_publisher).PublishAsync(Name, CancellationToken.None);
        _remote["pets/classes.txt"] = System.Text.Encoding.UTF8.GetBytes(string.Concat(CustomModelFiles.PetBreeds.Reverse().Select(n => n + "\n")));

        var error = await Assert.ThrowsAsync<ModelHashMismatchException>(() => Source(_worker).SyncAsync(Name, null, CancellationToken.None));

        Assert.Contains("pets/classes.txt", error.Message, StringComparison.Ordinal);
        Assert.False(_worker.HasImportedWeights(Name));
        Assert.False(File.Exists(_worker.ClassNamesPath(Name)));
    }

    [Fact]
    public async Task Custom_model_missing_from_the_shared_store_is_reported_by_its_key()
    {
        var error = await Assert.ThrowsAsync<RemoteModelNotFoundException>(() => Source(_worker).SyncAsync(Name, null, CancellationToken.None));

        Assert.Equal("pets/model.json", error.Key);
    }

    [Fact]
    public async Task Publishing_a_custom_model_the_store_does_not_have_is_refused_as_unknown()
    {
        await Assert.ThrowsAsync<UnknownModelException>(() => Source(_publisher).PublishAsync("birds", CancellationToken.None));

        Assert.Empty(_remote);
    }
}
