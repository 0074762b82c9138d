using System.Globalization;
using System.Security.Cryptography;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Store;

/// <summary>Local directory of built ONNX models: <c>{root}/{id}/model.onnx</c> (+ <c>model.json</c>) for imported
/// weights, <c>{root}/{id}/random-seed-{N}.onnx</c> (+ json) for generated ones. A custom model (<see cref="CustomModel"/>)
/// lives under its name with its class names beside the weights, <c>{root}/{name}/classes.txt</c>, hashed into its
/// manifests; its <c>model.json</c> is what defines it (arch, class count), so it is known only once imported.
/// Safe to share between processes: files appear atomically and the manifest is written last.</summary>
public sealed class ModelStore
{
    private const string ImportedName = "model";

    /// <param name="root">Store directory; default <see cref="DefaultRoot"/>.</param>
    public ModelStore(string? root = null) => Root = Path.GetFullPath(root ?? DefaultRoot);

    /// <summary><c>~/.cache/effnet/models</c>.</summary>
    public static string DefaultRoot =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "effnet", "models");

    public string Root { get; }

    /// <summary>The id a model is stored under (its folder here, its prefix in a shared store): the zoo's id for a zoo
    /// model, else the lower-cased custom model name. It does not check that a custom model exists.</summary>
    /// <exception cref="UnknownModelException">Neither a zoo id nor a valid custom model name.</exception>
    public static string StoredId(string modelId)
    {
        if (ModelCatalogue.TryGet(modelId, out var variant))
        {
            return variant.Id;
        }

        var name = CustomModelName.Canonicalize(modelId);
        return CustomModelName.IsValid(name) ? name : throw new UnknownModelException(modelId, ModelCatalogue.All.Select(v => v.Id));
    }

    /// <summary>What <paramref name="modelId"/> names: a zoo model, or a custom model imported into this store; null
    /// when neither. Reads only a custom model's manifest and class names.</summary>
    /// <exception cref="InvalidDataException">A custom model's manifest or class names file is damaged.</exception>
    public async Task<ModelDescription?> FindAsync(string modelId, CancellationToken ct) =>
        ModelCatalogue.TryGet(modelId, out var zoo) ? ModelDescription.Zoo(zoo) : (await FindCustomAsync(modelId, ct))?.Description;

    /// <summary>The custom model imported under <paramref name="modelId"/>, or null when there is none (or the id is a
    /// zoo id or no valid name).</summary>
    /// <exception cref="InvalidDataException">Its manifest or class names file is damaged.</exception>
    public async Task<CustomModel?> FindCustomAsync(string modelId, CancellationToken ct)
    {
        var name = CustomModelName.Canonicalize(modelId);
        var manifestPath = ManifestPath(name, ImportedName);
        if (!CustomModelName.IsValid(name) || !File.Exists(manifestPath))
        {
            return null;
        }

        var manifest = await ModelManifest.ReadAsync(manifestPath, ct);
        if (!string.Equals(manifest.Id, name, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{manifestPath} describes model '{manifest.Id}', not '{name}'.");
        }

        var classesPath = ClassNamesPath(name);
        if (manifest.IsCustom && !File.Exists(classesPath))
        {
            throw new InvalidDataException($"The custom model '{name}' has no class names file ({classesPath}); import it again.");
        }

        return manifest.ToCustomModel(manifest.IsCustom ? await File.ReadAllBytesAsync(classesPath, ct) : [], manifestPath);
    }

    /// <summary>Every custom model imported into this store, by name.</summary>
    /// <exception cref="InvalidDataException">A custom model's manifest or class names file is damaged.</exception>
    public async Task<IReadOnlyList<CustomModel>> ListCustomAsync(CancellationToken ct)
    {
        var models = new List<CustomModel>();
        foreach (var name in CustomModelFolders())
        {
            if (await FindCustomAsync(name, ct) is { } model)
            {
                models.Add(model);
            }
        }

        return models;
    }

    /// <summary>Finds the model's ONNX file. With <paramref name="randomSeed"/> it generates untrained weights for
    /// that seed on first use and caches the result; without it, it returns the imported model. A custom model must
    /// have been imported either way: its manifest is what says its arch and classes.</summary>
    /// <exception cref="UnknownModelException">The id is neither in the catalogue nor a custom model in this store.</exception>
    /// <exception cref="ModelNotAvailableException">No seed was given and nothing has been imported.</exception>
    public async Task<ResolvedModel> ResolveAsync(string modelId, int? randomSeed, CancellationToken ct)
    {
        var model = await FindAsync(modelId, ct)
            ?? throw new UnknownModelException(modelId, ModelCatalogue.All.Select(v => v.Id), CustomModelFolders());
        var variant = model.Variant;
        if (randomSeed is not { } seed)
        {
            var imported = await TryReadAsync(model, ImportedName, ct);
            return imported ?? throw new ModelNotAvailableException(variant.Id, OnnxPath(variant.Id, ImportedName));
        }

        var name = $"random-seed-{seed.ToString(CultureInfo.InvariantCulture)}";
        if (await TryReadAsync(model, name, ct) is { } cached)
        {
            return cached;
        }

        var description = $"random weights, seed {seed.ToString(CultureInfo.InvariantCulture)} (untrained)";
        // Generation and graph building are CPU-bound (seconds for b7); keep them off the caller's thread.
        var onnx = await Task.Run(() => BuildBytes(model, RandomWeights.Generate(variant.Architecture, seed), description, untrained: true), ct);
        var catalogue = new StoredNormalization(variant.Normalization, NormalizationSource.Catalogue);
        return await StoreAsync(model, name, onnx, description, untrained: true, sourceFile: null, sourceSha256: null, catalogue, ct);
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
    /// <exception cref="UnknownModelException">The id is not in the catalogue (custom models: <see cref="ImportCustomAsync"/>).</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the model's architecture.</exception>
    public Task<ResolvedModel> ImportAsync(
        string modelId, StateDict weights, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct) =>
        ImportWeightsAsync(ModelDescription.Zoo(ModelCatalogue.Get(modelId)), weights, sourceName, sourceSha256, normalization, ct);

    /// <summary>Stores a fine-tuned checkpoint as the custom model <paramref name="model"/>: the weights must fit its
    /// arch exactly, with a head of one output per class name. Replaces an earlier import under the same name.</summary>
    /// <param name="normalization">Serve the weights with this normalisation; null for the arch's default
    /// (<see cref="CustomModel.DefaultNormalization"/>).</param>
    /// <exception cref="ClassCountMismatchException">The head has another number of outputs than there are names.</exception>
    /// <exception cref="CheckpointMismatchException">Any other key or shape does not fit the arch.</exception>
    public Task<ResolvedModel> ImportCustomAsync(
        CustomModel model, StateDict weights, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct)
    {
        if (CheckpointValidator.HeadClassCount(weights) is { } outputs && outputs != model.ClassNames.Count)
        {
            throw new ClassCountMismatchException("the class names", model.ClassNames.Count, outputs, weights[CheckpointValidator.HeadWeightKey].ShapeText);
        }

        return ImportWeightsAsync(model.Description, weights, sourceName, sourceSha256, normalization, ct);
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
    public Task<ResolvedModel> ImportOnnxAsync(
        string modelId, string onnxPath, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct) =>
        ImportOnnxFileAsync(ModelDescription.Zoo(ModelCatalogue.Get(modelId)), onnxPath, sourceName, sourceSha256, normalization, ct);

    /// <summary>Like <see cref="ImportOnnxAsync(string, string, string, string, Normalization?, CancellationToken)"/>
    /// for a custom model: the output must be float [N, number of class names].</summary>
    /// <exception cref="OnnxModelRejectedException">Not loadable, or input/output do not fit the custom model.</exception>
    public Task<ResolvedModel> ImportCustomOnnxAsync(
        CustomModel model, string onnxPath, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct) =>
        ImportOnnxFileAsync(model.Description, onnxPath, sourceName, sourceSha256, normalization, ct);

    /// <summary>True when imported (or pulled) weights are in the store; random-seed models do not count.</summary>
    /// <exception cref="UnknownModelException">Neither a zoo id nor a valid custom model name.</exception>
    public bool HasImportedWeights(string modelId)
    {
        var id = StoredId(modelId);
        return File.Exists(ManifestPath(id, ImportedName)) && File.Exists(OnnxPath(id, ImportedName));
    }

    /// <summary><c>{root}/{id}/model.onnx</c>: where imported weights live.</summary>
    public string ImportedOnnxPath(string modelId) => OnnxPath(StoredId(modelId), ImportedName);

    /// <summary><c>{root}/{id}/model.json</c>: the manifest of the imported weights.</summary>
    public string ImportedManifestPath(string modelId) => ManifestPath(StoredId(modelId), ImportedName);

    /// <summary><c>{root}/{name}/classes.txt</c>: a custom model's class names, one per line in output order.</summary>
    public string ClassNamesPath(string modelId) => Path.Combine(Root, StoredId(modelId), ClassNames.FileName);

    /// <summary>Installs an ONNX file received from elsewhere (a shared blob store) as the model's imported weights:
    /// a custom model's class names first, then the ONNX file, then its manifest, so the set appears complete.</summary>
    /// <param name="classNames">The bytes of a custom model's class names file (already checked against the
    /// manifest); null for a zoo model.</param>
    internal async Task<ResolvedModel> InstallImportedAsync(string modelId, StagedFile onnx, byte[]? classNames, ModelManifest manifest, CancellationToken ct)
    {
        var id = StoredId(modelId);
        if (classNames is not null)
        {
            await AtomicFile.WriteAllBytesAsync(ClassNamesPath(id), classNames, ct);
        }

        var onnxPath = OnnxPath(id, ImportedName);
        onnx.Commit(onnxPath);
        var local = manifest with { OnnxFile = Path.GetFileName(onnxPath), OnnxSha256 = onnx.Sha256 };
        await AtomicFile.WriteAllBytesAsync(ManifestPath(id, ImportedName), local.ToJsonBytes(), ct);
        return await ResolveAsync(id, null, ct);
    }

    /// <summary>Folders that may hold a custom model (a valid name with a manifest), without reading them.</summary>
    private IReadOnlyList<string> CustomModelFolders() =>
        Directory.Exists(Root)
            ? [.. Directory.EnumerateDirectories(Root)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(name => CustomModelName.IsValid(name) && File.Exists(ManifestPath(name, ImportedName)))
                .Order(StringComparer.Ordinal)]
            : [];

    private async Task<ResolvedModel> ImportWeightsAsync(
        ModelDescription model, StateDict weights, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct)
    {
        var variant = model.Variant;
        var chosen = StoredNormalization.Choose(variant, normalization, fileMetadata: null);
        var description = $"imported from {sourceName} (sha256 {sourceSha256})";
        // The ONNX metadata names the normalisation the weights are served with.
        var onnx = await Task.Run(
            () => BuildBytes(model with { Variant = variant with { Normalization = chosen.Normalization } }, weights, description, untrained: false), ct);
        return await StoreAsync(model, ImportedName, onnx, description, untrained: false, sourceName, sourceSha256, chosen, ct);
    }

    private async Task<ResolvedModel> ImportOnnxFileAsync(
        ModelDescription model, string onnxPath, string sourceName, string sourceSha256, Normalization? normalization, CancellationToken ct)
    {
        var (onnx, chosen, untrained) = await Task.Run(() => OnnxModelImport.Prepare(model, onnxPath, normalization), ct);
        var description = untrained
            ? $"imported from {sourceName} (sha256 {sourceSha256}), UNTRAINED: the file's metadata says its weights are generated, not learned"
            : $"imported from {sourceName} (sha256 {sourceSha256})";
        return await StoreAsync(model, ImportedName, onnx, description, untrained, sourceName, sourceSha256, chosen, ct);
    }

    private string OnnxPath(string id, string name) => Path.Combine(Root, id, $"{name}.onnx");

    private string ManifestPath(string id, string name) => Path.Combine(Root, id, $"{name}.json");

    private static byte[] BuildBytes(ModelDescription model, StateDict weights, string description, bool untrained)
    {
        var metadata = new Dictionary<string, string>
        {
            ["weights"] = description,
            [OnnxModelImport.UntrainedKey] = untrained ? "true" : "false",
        };
        foreach (var (key, value) in ClassNamesMetadata.Entries(model))
        {
            metadata[key] = value;
        }

        return EfficientNetOnnxBuilder.ToBytes(EfficientNetOnnxBuilder.Build(model.Variant, weights, metadata));
    }

    private async Task<ResolvedModel> StoreAsync(
        ModelDescription model, string name, byte[] onnx, string description, bool untrained, string? sourceFile, string? sourceSha256,
        StoredNormalization normalization, CancellationToken ct)
    {
        var variant = model.Variant;
        var onnxPath = OnnxPath(variant.Id, name);
        string? classesSha256 = null;
        if (variant.IsCustom)
        {
            var classes = ClassNames.ToBytes(model.ClassNames);
            classesSha256 = Convert.ToHexStringLower(SHA256.HashData(classes));
            if (name == ImportedName)
            {
                // Written first: a reader that finds the new manifest finds the names it hashes.
                await AtomicFile.WriteAllBytesAsync(ClassNamesPath(variant.Id), classes, ct);
            }
        }

        var onnxSha256 = Convert.ToHexStringLower(SHA256.HashData(onnx));
        await AtomicFile.WriteAllBytesAsync(onnxPath, onnx, ct);

        var served = normalization.Normalization;
        var manifest = new ModelManifest(
            variant.Id, variant.Arch, variant.Flavour, variant.Resolution, served.Mean, served.Std, served.Name,
            description, untrained, sourceFile, sourceSha256, Path.GetFileName(onnxPath), onnxSha256, DateTimeOffset.UtcNow,
            normalization.Source,
            variant.IsCustom ? model.ClassNames.Count : null,
            variant.IsCustom ? ClassNames.FileName : null,
            classesSha256);
        await AtomicFile.WriteAllBytesAsync(ManifestPath(variant.Id, name), manifest.ToJsonBytes(), ct);
        return Resolved(model, onnxPath, manifest);
    }

    private async Task<ResolvedModel?> TryReadAsync(ModelDescription model, string name, CancellationToken ct)
    {
        var variant = model.Variant;
        var manifestPath = ManifestPath(variant.Id, name);
        var onnxPath = OnnxPath(variant.Id, name);
        if (!File.Exists(manifestPath) || !File.Exists(onnxPath))
        {
            return null;
        }

        var manifest = await ModelManifest.ReadAsync(manifestPath, ct);
        // Random weights generated for an earlier definition of a custom model (another arch or other classes, since
        // re-imported) are stale: they are generated again.
        if (variant.IsCustom && name != ImportedName
            && (!string.Equals(manifest.Arch, variant.Arch, StringComparison.Ordinal)
                || !string.Equals(manifest.ClassesSha256, Convert.ToHexStringLower(SHA256.HashData(ClassNames.ToBytes(model.ClassNames))), StringComparison.Ordinal)))
        {
            return null;
        }

        try
        {
            await StoredModelVerifier.VerifyAsync(variant, onnxPath, manifest.OnnxSha256, ct);
        }
        catch (ModelHashMismatchException) when (name != ImportedName)
        {
            // Generated weights are a cache: a damaged copy is generated again.
            return null;
        }

        return Resolved(model, onnxPath, manifest);
    }

    /// <summary>The model as consumers see it: the variant carries the normalisation the manifest records (random
    /// weights and manifests without a recorded source always use the catalogue's), and the description says so
    /// when it differs from the catalogue's.</summary>
    private static ResolvedModel Resolved(ModelDescription model, string onnxPath, ModelManifest manifest)
    {
        var variant = model.Variant;
        var normalization = ServedNormalization(variant, manifest);
        var description = normalization.Equals(variant.Normalization)
            ? manifest.Weights
            : manifest.NormalizationSource == NormalizationSource.FileMetadata
                ? $"{manifest.Weights}, normalisation {normalization} (override from the file's metadata)"
                : $"{manifest.Weights}, normalisation {normalization} (override)";
        return new ResolvedModel(
            variant with { Normalization = normalization }, onnxPath, description, manifest.Untrained, manifest.OnnxSha256, model.ClassNames);
    }

    private static Normalization ServedNormalization(ModelVariant variant, ModelManifest manifest)
    {
        if (manifest.ServesCatalogueNormalization)
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
    /// <summary>Explicit option, then the file's own metadata, then the catalogue (for a custom model, its arch's default).</summary>
    public static StoredNormalization Choose(ModelVariant variant, Normalization? option, Normalization? fileMetadata) =>
        option is not null ? new(option, NormalizationSource.Option)
        : fileMetadata is not null ? new(fileMetadata, NormalizationSource.FileMetadata)
        : new(variant.Normalization, NormalizationSource.Catalogue);
}
