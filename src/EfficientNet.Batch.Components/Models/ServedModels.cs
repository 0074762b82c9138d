using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Models;

/// <summary>
/// The models a job may name, as the coordinator sees them: the zoo, plus the custom models (<see cref="CustomModel"/>)
/// in the model store the workers load from, which is the shared store (<see cref="ModelStoreOptions.RemoteLocation"/>)
/// when one is set, else the local store. Nothing is cached: a model published a moment ago is found.
/// </summary>
public sealed class ServedModels(IStorageResolver storage, IOptions<ModelStoreOptions> options)
{
    /// <summary>Custom models are looked up in a shared store, which takes I/O that may wait on the network.</summary>
    public bool UsesSharedStore => options.Value.RemoteLocation is { Length: > 0 };

    /// <summary>What <paramref name="modelId"/> names: a zoo model (no I/O), or a custom model whose manifest and
    /// class names are in the store the workers load from; null when neither.</summary>
    /// <exception cref="InvalidDataException">The custom model's manifest or class names are damaged or do not match.</exception>
    public async Task<ModelDescription?> FindAsync(string modelId, CancellationToken cancellationToken)
    {
        if (ModelCatalogue.TryGet(modelId, out var zoo))
        {
            return ModelDescription.Zoo(zoo);
        }

        var name = CustomModelName.Canonicalize(modelId);
        if (!CustomModelName.IsValid(name))
        {
            return null;
        }

        if (!UsesSharedStore)
        {
            return (await LocalStore().FindCustomAsync(name, cancellationToken))?.Description;
        }

        var manifest = await ReadManifestAsync(name, cancellationToken);
        if (manifest is null)
        {
            return null;
        }

        var classes = await ReadSharedAsync(BlobModelSource.ClassNamesKey(name), cancellationToken)
            ?? throw new InvalidDataException($"The shared model store has the manifest of '{name}' but not its class names ({BlobModelSource.ClassNamesKey(name)}); publish it again.");
        return manifest.ToCustomModel(classes, BlobModelSource.ManifestKey(name)).Description;
    }

    /// <summary>True when the id names a zoo model, or a custom model in the local store, which can be answered without
    /// waiting on the network; false otherwise, including every custom model when <see cref="UsesSharedStore"/>
    /// (<see cref="FindAsync"/> answers those).</summary>
    public bool IsKnownLocally(string modelId)
    {
        if (ModelCatalogue.TryGet(modelId, out _))
        {
            return true;
        }

        var name = CustomModelName.Canonicalize(modelId);
        if (UsesSharedStore || !CustomModelName.IsValid(name))
        {
            return false;
        }

        var store = LocalStore();
        return File.Exists(store.ImportedManifestPath(name)) && File.Exists(store.ClassNamesPath(name));
    }

    /// <summary>The manifest of the model's imported weights in the store the workers load from (the shared store's
    /// <c>{id}/model.json</c> when one is set, else the local store's); null when there is none.</summary>
    /// <exception cref="UnknownModelException">Neither a zoo id nor a valid custom model name.</exception>
    public async Task<ModelManifest?> ReadManifestAsync(string modelId, CancellationToken cancellationToken)
    {
        var key = BlobModelSource.ManifestKey(modelId);
        if (UsesSharedStore)
        {
            var remote = storage.Resolve(options.Value.RemoteLocation!);
            try
            {
                await using var stream = await remote.Store.OpenReadAsync(remote.KeyFor(key), cancellationToken);
                return await ModelManifest.ReadAsync(stream, remote.Describe(key), cancellationToken);
            }
            catch (BlobNotFoundException)
            {
                return null;
            }
        }

        var local = LocalStore().ImportedManifestPath(modelId);
        return File.Exists(local) ? await ModelManifest.ReadAsync(local, cancellationToken) : null;
    }

    private ModelStore LocalStore() => new(ModelStoreLocation.Resolve(options.Value.Directory));

    private async Task<byte[]?> ReadSharedAsync(string key, CancellationToken cancellationToken)
    {
        var remote = storage.Resolve(options.Value.RemoteLocation!);
        try
        {
            await using var stream = await remote.Store.OpenReadAsync(remote.KeyFor(key), cancellationToken);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }
}
