using System.Globalization;
using System.Security.Cryptography;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Store;

/// <summary>Local directory of built ONNX models: <c>{root}/{id}/model.onnx</c> (+ <c>model.json</c>) for imported
/// weights, <c>{root}/{id}/random-seed-{N}.onnx</c> (+ json) for generated ones. Safe to share between processes:
/// files appear atomically and the manifest is written last.</summary>
public sealed class ModelStore
{
    private const string ImportedName = "model";

    /// <param name="root">Store directory; default <see cref="DefaultRoot"/>.</param>
    public ModelStore(string? root = null) => Root = Path.GetFullPath(root ?? DefaultRoot);

    /// <summary><c>~/.cache/effnet/models</c>.</summary>
    public static string DefaultRoot =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "effnet", "models");

    public string Root { get; }

    /// <summary>Finds the model's ONNX file. With <paramref name="randomSeed"/> it generates untrained weights for
    /// that seed on first use and caches the result; without it, it returns the imported model.</summary>
    /// <exception cref="UnknownModelException">The id is not in the catalogue.</exception>
    /// <exception cref="ModelNotAvailableException">No seed was given and nothing has been imported.</exception>
    public async Task<ResolvedModel> ResolveAsync(string modelId, int? randomSeed, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        if (randomSeed is not { } seed)
        {
            var imported = await TryReadAsync(variant, ImportedName, ct);
            return imported ?? throw new ModelNotAvailableException(variant.Id, OnnxPath(variant, ImportedName));
        }

        var name = $"random-seed-{seed.ToString(CultureInfo.InvariantCulture)}";
        if (await TryReadAsync(variant, name, ct) is { } cached)
        {
            return cached;
        }

        var description = $"random weights, seed {seed.ToString(CultureInfo.InvariantCulture)} (untrained)";
        // Generation and graph building are CPU-bound (seconds for b7); keep them off the caller's thread.
        var onnx = await Task.Run(() => BuildBytes(variant, RandomWeights.Generate(variant.Architecture, seed), description, untrained: true), ct);
        var catalogue = new StoredNormalization(variant.Normalization, NormalizationSource.Catalogue);
        return await StoreAsync(variant, name, onnx, description, untrained: true, sourceFile: null, sourceSha256: null, catalogue, ct);
    }

    /// <summary>Validates imported checkpoint weights, builds the ONNX graph and stores it as the model's weights,
    /// replacing any earlier import, with the catalogue's normalisation.</summary>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the model's architecture.</exception>
    public Task<ResolvedModel> ImportAsync(string modelId, StateDict weights, string sourceName, string sourceSha256, CancellationToken ct) =>
        ImportAsync(modelId, weights, sourceName, sourceSha256, normalization: null, ct);

    /// <summary>Validates imported checkpoint weights, builds the ONNX graph and stores it as the model's weights,
    /// replacing any earlier import.</summary>
    /// <param name="normalization">Serve the weights with this normalisation instead of the catalogue's (meant for
    /// es/em, whose published figures came from ImageNet mean/std); null for the catalogue's.</param>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the model's architecture.</exception>
    public async Task<ResolvedModel> ImportAsync(
        string modelId, StateDict weights, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        var chosen = StoredNormalization.Choose(variant, normalization, fileMetadata: null);
        var description = $"imported from {sourceName} (sha256 {sourceSha256})";
        // The ONNX metadata names the normalisation the weights are served with.
        var onnx = await Task.Run(() => BuildBytes(variant with { Normalization = chosen.Normalization }, weights, description, untrained: false), ct);
        return await StoreAsync(variant, ImportedName, onnx, description, untrained: false, sourceName, sourceSha256, chosen, ct);
    }

    /// <inheritdoc cref="ImportOnnxAsync(string, string, string, string, Normalization?, CancellationToken)"/>
    public Task<ResolvedModel> ImportOnnxAsync(string modelId, string onnxPath, string sourceName, string sourceSha256, CancellationToken ct) =>
        ImportOnnxAsync(modelId, onnxPath, sourceName, sourceSha256, normalization: null, ct);

    /// <summary>Checks an exported ONNX model (mmcls pytorch2onnx, mmdeploy, or one of ours) against the variant:
    /// loadable by ONNX Runtime, one float input [N, 3, R, R] at the variant's resolution, one float output [N, 1000].
    /// Input and output are renamed to <c>input</c>/<c>probs</c> if needed, then stored as the model's weights.
    /// The normalisation is <paramref name="normalization"/>, else the one the file's metadata names
    /// (<see cref="NormalizationMetadata"/>), else the catalogue's; the stored file's metadata is set to it.</summary>
    /// <param name="normalization">Explicit override, winning over the file's metadata; null for none.</param>
    /// <exception cref="OnnxModelRejectedException">The file is not a loadable ONNX model for this variant, or its
    /// normalisation metadata is unusable (and no explicit normalisation was given).</exception>
    public async Task<ResolvedModel> ImportOnnxAsync(
        string modelId, string onnxPath, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        var description = $"imported from {sourceName} (sha256 {sourceSha256})";
        var (onnx, chosen) = await Task.Run(() => OnnxModelImport.Prepare(variant, onnxPath, normalization), ct);
        return await StoreAsync(variant, ImportedName, onnx, description, untrained: false, sourceName, sourceSha256, chosen, ct);
    }

    /// <summary>True when imported (or pulled) weights are in the store; random-seed models do not count.</summary>
    public bool HasImportedWeights(string modelId)
    {
        var variant = ModelCatalogue.Get(modelId);
        return File.Exists(ManifestPath(variant, ImportedName)) && File.Exists(OnnxPath(variant, ImportedName));
    }

    /// <summary><c>{root}/{id}/model.onnx</c>: where imported weights live.</summary>
    public string ImportedOnnxPath(string modelId) => OnnxPath(ModelCatalogue.Get(modelId), ImportedName);

    /// <summary><c>{root}/{id}/model.json</c>: the manifest of the imported weights.</summary>
    public string ImportedManifestPath(string modelId) => ManifestPath(ModelCatalogue.Get(modelId), ImportedName);

    /// <summary>Installs an ONNX file received from elsewhere (a shared blob store) as the model's imported weights:
    /// the file is moved into place first, then its manifest is written, so the pair appears complete.</summary>
    internal async Task<ResolvedModel> InstallImportedAsync(ModelVariant variant, StagedFile onnx, ModelManifest manifest, CancellationToken ct)
    {
        var onnxPath = OnnxPath(variant, ImportedName);
        onnx.Commit(onnxPath);
        var local = manifest with { OnnxFile = Path.GetFileName(onnxPath), OnnxSha256 = onnx.Sha256 };
        await AtomicFile.WriteAllBytesAsync(ManifestPath(variant, ImportedName), local.ToJsonBytes(), ct);
        return Resolved(variant, onnxPath, local);
    }

    private string OnnxPath(ModelVariant variant, string name) => Path.Combine(Root, variant.Id, $"{name}.onnx");

    private string ManifestPath(ModelVariant variant, string name) => Path.Combine(Root, variant.Id, $"{name}.json");

    private static byte[] BuildBytes(ModelVariant variant, StateDict weights, string description, bool untrained)
    {
        var metadata = new Dictionary<string, string>
        {
            ["weights"] = description,
            ["untrained"] = untrained ? "true" : "false",
        };
        return EfficientNetOnnxBuilder.ToBytes(EfficientNetOnnxBuilder.Build(variant, weights, metadata));
    }

    private async Task<ResolvedModel> StoreAsync(
        ModelVariant variant, string name, byte[] onnx, string description, bool untrained, string? sourceFile, string? sourceSha256,
        StoredNormalization normalization, CancellationToken ct)
    {
        var onnxPath = OnnxPath(variant, name);
        var onnxSha256 = Convert.ToHexStringLower(SHA256.HashData(onnx));
        await AtomicFile.WriteAllBytesAsync(onnxPath, onnx, ct);

        var served = normalization.Normalization;
        var manifest = new ModelManifest(
            variant.Id, variant.Arch, variant.Flavour, variant.Resolution, served.Mean, served.Std, served.Name,
            description, untrained, sourceFile, sourceSha256, Path.GetFileName(onnxPath), onnxSha256, DateTimeOffset.UtcNow,
            normalization.Source);
        await AtomicFile.WriteAllBytesAsync(ManifestPath(variant, name), manifest.ToJsonBytes(), ct);
        return Resolved(variant, onnxPath, manifest);
    }

    private async Task<ResolvedModel?> TryReadAsync(ModelVariant variant, string name, CancellationToken ct)
    {
        var manifestPath = ManifestPath(variant, name);
        var onnxPath = OnnxPath(variant, name);
        if (!File.Exists(manifestPath) || !File.Exists(onnxPath))
        {
            return null;
        }

        return Resolved(variant, onnxPath, await ModelManifest.ReadAsync(manifestPath, ct));
    }

    /// <summary>The model as consumers see it: the variant carries the normalisation the manifest records (random
    /// weights and manifests without a recorded source always use the catalogue's), and the description says so
    /// when it differs from the catalogue's.</summary>
    private static ResolvedModel Resolved(ModelVariant variant, string onnxPath, ModelManifest manifest)
    {
        var normalization = ServedNormalization(variant, manifest);
        var description = normalization.Equals(variant.Normalization)
            ? manifest.Weights
            : manifest.NormalizationSource == NormalizationSource.FileMetadata
                ? $"{manifest.Weights}, normalisation {normalization} (override from the file's metadata)"
                : $"{manifest.Weights}, normalisation {normalization} (override)";
        return new ResolvedModel(variant with { Normalization = normalization }, onnxPath, description, manifest.Untrained, manifest.OnnxSha256);
    }

    private static Normalization ServedNormalization(ModelVariant variant, ModelManifest manifest)
    {
        if (manifest.Untrained || manifest.NormalizationSource is null or NormalizationSource.Catalogue)
        {
            return variant.Normalization;
        }

        try
        {
            return Normalization.FromValues(manifest.Mean, manifest.Std);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The manifest of {variant.Id} records an unusable normalisation: {e.Message}", e);
        }
    }
}

/// <summary>The normalisation chosen for weights at import, and why.</summary>
internal sealed record StoredNormalization(Normalization Normalization, NormalizationSource Source)
{
    /// <summary>Explicit option, then the file's own metadata, then the catalogue.</summary>
    public static StoredNormalization Choose(ModelVariant variant, Normalization? option, Normalization? fileMetadata) =>
        option is not null ? new(option, NormalizationSource.Option)
        : fileMetadata is not null ? new(fileMetadata, NormalizationSource.FileMetadata)
        : new(variant.Normalization, NormalizationSource.Catalogue);
}
