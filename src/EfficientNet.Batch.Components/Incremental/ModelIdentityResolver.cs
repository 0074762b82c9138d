using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// The model identity a job will run under, known before any shard is classified: generated weights are named by
/// their seed; imported weights by the ONNX SHA-256 of the manifest workers load them from (the shared store's
/// <c>{id}/model.json</c> when <c>Models:RemoteLocation</c> is set, else the local store's). Nothing is built or loaded.
/// A custom model's manifest is also what gives its resolution and default normalisation.
/// </summary>
public sealed class ModelIdentityResolver(IStorageResolver storage, IOptions<ModelStoreOptions> options)
{
    private readonly ServedModels _models = new(storage, options);

    /// <summary>The identity, or null when no weights are published for the model (then nothing can be reused, and
    /// the job's workers say what is missing).</summary>
    public async Task<ModelIdentity?> ResolveAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        var id = ModelCatalogue.CanonicalId(spec.Model);
        var zoo = ModelCatalogue.TryGet(id, out var variant) ? variant : null;
        if (spec.RandomWeights && zoo is not null)
        {
            return new ModelIdentity(zoo.Id, ModelIdentity.RandomWeights(spec.Seed), Catalogue(zoo));
        }

        var manifest = await _models.ReadManifestAsync(id, cancellationToken);
        if (manifest is null)
        {
            return null;
        }

        if (zoo is not null)
        {
            return new ModelIdentity(zoo.Id, ModelIdentity.ImportedWeights(manifest.OnnxSha256), Served(zoo, manifest));
        }

        // A custom model: random weights are served with its arch's default normalisation (like a zoo model's with the
        // catalogue's), imported ones with what its manifest records.
        if (spec.RandomWeights)
        {
            return ArchSpec.TryGet(manifest.Arch, out var arch)
                ? new ModelIdentity(id, ModelIdentity.RandomWeights(spec.Seed), Preprocess(manifest.Resolution, CustomModel.DefaultNormalization(arch)))
                : null;
        }

        return new ModelIdentity(
            id, ModelIdentity.ImportedWeights(manifest.OnnxSha256), new Preprocessing(manifest.Resolution, manifest.Normalization, manifest.Mean, manifest.Std));
    }

    /// <summary>The identity the workers of a shard actually used, from what they reported.</summary>
    public static ModelIdentity? Reported(JobSpec spec, string? weightsSha256, Preprocessing? preprocessing)
    {
        if (preprocessing is null || (!spec.RandomWeights && weightsSha256 is null))
        {
            return null;
        }

        return new ModelIdentity(
            ModelCatalogue.CanonicalId(spec.Model), spec.RandomWeights ? ModelIdentity.RandomWeights(spec.Seed) : ModelIdentity.ImportedWeights(weightsSha256!), preprocessing);
    }

    private static Preprocessing Catalogue(ModelVariant variant) => Preprocess(variant.Resolution, variant.Normalization);

    private static Preprocessing Preprocess(int resolution, Normalization normalization) =>
        new(resolution, normalization.Name, normalization.Mean, normalization.Std);

    // The normalisation workers serve the weights with: the manifest's when it records an override, else the catalogue's.
    private static Preprocessing Served(ModelVariant variant, ModelManifest manifest) =>
        manifest.ServesCatalogueNormalization
            ? Catalogue(variant)
            : new Preprocessing(variant.Resolution, manifest.Normalization, manifest.Mean, manifest.Std);
}
