using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// The model identity a job will run under, known before any shard is classified: generated weights are named by
/// their seed; imported weights by the ONNX SHA-256 of the manifest workers load them from (the shared store's
/// <c>{id}/model.json</c> when <c>Models:RemoteLocation</c> is set, else the local store's). Nothing is built or loaded.
/// </summary>
public sealed class ModelIdentityResolver(IStorageResolver storage, IOptions<ModelStoreOptions> options)
{
    /// <summary>The identity, or null when no weights are published for the model (then nothing can be reused, and
    /// the job's workers say what is missing).</summary>
    public async Task<ModelIdentity?> ResolveAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        var variant = ModelCatalogue.Get(spec.Model);
        if (spec.RandomWeights)
        {
            return new ModelIdentity(variant.Id, ModelIdentity.RandomWeights(spec.Seed), Catalogue(variant));
        }

        var manifest = await ReadManifestAsync(variant, cancellationToken);
        return manifest is null ? null : new ModelIdentity(variant.Id, ModelIdentity.ImportedWeights(manifest.OnnxSha256), Served(variant, manifest));
    }

    /// <summary>The identity the workers of a shard actually used, from what they reported.</summary>
    public static ModelIdentity? Reported(JobSpec spec, string? weightsSha256, Preprocessing? preprocessing)
    {
        var variant = ModelCatalogue.Get(spec.Model);
        if (preprocessing is null || (!spec.RandomWeights && weightsSha256 is null))
        {
            return null;
        }

        return new ModelIdentity(
            variant.Id, spec.RandomWeights ? ModelIdentity.RandomWeights(spec.Seed) : ModelIdentity.ImportedWeights(weightsSha256!), preprocessing);
    }

    private async Task<ModelManifest?> ReadManifestAsync(ModelVariant variant, CancellationToken cancellationToken)
    {
        if (options.Value.RemoteLocation is { Length: > 0 } remoteLocation)
        {
            var remote = storage.Resolve(remoteLocation);
            try
            {
                await using var stream = await remote.Store.OpenReadAsync(remote.KeyFor(BlobModelSource.ManifestKey(variant.Id)), cancellationToken);
                return await ModelManifest.ReadAsync(stream, remote.Describe(BlobModelSource.ManifestKey(variant.Id)), cancellationToken);
            }
            catch (BlobNotFoundException)
            {
                return null;
            }
        }

        var local = new ModelStore(ModelStoreLocation.Resolve(options.Value.Directory)).ImportedManifestPath(variant.Id);
        return File.Exists(local) ? await ModelManifest.ReadAsync(local, cancellationToken) : null;
    }

    private static Preprocessing Catalogue(ModelVariant variant) =>
        new(variant.Resolution, variant.NormalizationName, variant.Mean, variant.Std);

    // The normalisation workers serve the weights with: the manifest's when it records an override, else the catalogue's.
    private static Preprocessing Served(ModelVariant variant, ModelManifest manifest) =>
        manifest.Untrained || manifest.NormalizationSource is null or NormalizationSource.Catalogue
            ? Catalogue(variant)
            : new Preprocessing(variant.Resolution, manifest.Normalization, manifest.Mean, manifest.Std);
}
