using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Checkpoints;

namespace EfficientNet.Batch.Models.Store;

/// <summary>Imports a weights file into the store, choosing the path by extension: PyTorch checkpoints
/// (<c>.pth</c>, <c>.pt</c>, <c>.bin</c>) are read without executing their pickle, validated and built into ONNX;
/// <c>.onnx</c> files are checked with ONNX Runtime and stored as they are.</summary>
public sealed class CheckpointImporter(ModelStore store)
{
    private static readonly string[] PyTorchExtensions = [".pth", ".pt", ".bin"];
    private const string OnnxExtension = ".onnx";

    /// <summary>Extensions <see cref="ImportFileAsync(string, string, string, Normalization, CancellationToken)"/> accepts.</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } = [.. PyTorchExtensions, OnnxExtension];

    /// <param name="sourceName">Recorded in the manifest and decides the format by its extension; default the file name
    /// (a download passes the URL's file name).</param>
    /// <exception cref="Catalogue.UnknownModelException">The id is not in the catalogue.</exception>
    /// <exception cref="UnsupportedWeightsFileException">The extension is none of <see cref="SupportedExtensions"/>.</exception>
    /// <exception cref="CheckpointFormatException">Not a readable PyTorch checkpoint (includes <see cref="UnsafeCheckpointException"/>).</exception>
    /// <exception cref="Onnx.CheckpointMismatchException">Keys or shapes do not fit the model's architecture.</exception>
    /// <exception cref="OnnxModelRejectedException">An .onnx file that does not load or does not fit the model.</exception>
    public Task<ResolvedModel> ImportFileAsync(string modelId, string path, string? sourceName, CancellationToken ct) =>
        ImportFileAsync(modelId, path, sourceName, normalization: null, ct);

    /// <inheritdoc cref="ImportFileAsync(string, string, string, CancellationToken)"/>
    /// <param name="normalization">Serve the weights with this normalisation (meant for es/em); it wins over an .onnx
    /// file's own metadata, which wins over the catalogue's. PyTorch checkpoints have no standard field for it.</param>
    public async Task<ResolvedModel> ImportFileAsync(string modelId, string path, string? sourceName, Normalization? normalization, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        // The source name decides the format: a download sits in a temp file under another name.
        var name = sourceName ?? Path.GetFileName(path);
        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (!SupportedExtensions.Contains(extension))
        {
            throw new UnsupportedWeightsFileException(name, SupportedExtensions);
        }

        var sha256 = await FileSha256.ComputeAsync(path, ct);
        if (extension == OnnxExtension)
        {
            return await store.ImportOnnxAsync(variant.Id, path, name, sha256, normalization, ct);
        }

        // Reading is CPU-bound (unpickling, tensor copies: about a second for b8).
        var checkpoint = await Task.Run(() => CheckpointReader.Read(path), ct);
        return await store.ImportAsync(variant.Id, checkpoint.StateDict, name, sha256, normalization, ct);
    }

    /// <summary>Imports a fine-tuned checkpoint (or its ONNX export) as a custom model: <paramref name="name"/> is its
    /// id from then on, <paramref name="arch"/> the zoo architecture it was fine-tuned from, and
    /// <paramref name="classNamesPath"/> a text file with one class name per head output, in output order. The name,
    /// arch and names file are checked before the weights file is read.</summary>
    /// <param name="normalization">Serve the weights with this normalisation; null for the arch's default
    /// (<see cref="CustomModel.DefaultNormalization"/>; an .onnx file's own metadata comes before it).</param>
    /// <exception cref="InvalidModelNameException">The name is malformed or a zoo id.</exception>
    /// <exception cref="ArgumentException">The arch is not one of the zoo's.</exception>
    /// <exception cref="FileNotFoundException">The names file does not exist.</exception>
    /// <exception cref="UnsupportedWeightsFileException">The extension is none of <see cref="SupportedExtensions"/>.</exception>
    /// <exception cref="ClassNamesException">The names file is malformed, or (<see cref="ClassCountMismatchException"/>)
    /// has another number of names than the checkpoint's head has outputs.</exception>
    /// <exception cref="CheckpointFormatException">Not a readable PyTorch checkpoint.</exception>
    /// <exception cref="Onnx.CheckpointMismatchException">Any other key or shape does not fit the arch.</exception>
    /// <exception cref="OnnxModelRejectedException">An .onnx file that does not load or does not fit.</exception>
    public async Task<ResolvedModel> ImportCustomFileAsync(
        string name, string arch, string classNamesPath, string path, string? sourceName, Normalization? normalization, CancellationToken ct)
    {
        CustomModelName.Validate(name);
        _ = CustomModel.ParseArch(arch);

        var fileName = sourceName ?? Path.GetFileName(path);
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        if (!SupportedExtensions.Contains(extension))
        {
            throw new UnsupportedWeightsFileException(fileName, SupportedExtensions);
        }

        var classNames = await ClassNames.ReadFileAsync(classNamesPath, ct);
        var model = CustomModel.Create(name, arch, classNames);
        var sha256 = await FileSha256.ComputeAsync(path, ct);
        if (extension == OnnxExtension)
        {
            return await store.ImportCustomOnnxAsync(model, path, fileName, sha256, normalization, ct);
        }

        var checkpoint = await Task.Run(() => CheckpointReader.Read(path), ct);
        if (Onnx.CheckpointValidator.HeadClassCount(checkpoint.StateDict) is { } outputs && outputs != classNames.Count)
        {
            throw new ClassCountMismatchException(
                Path.GetFileName(classNamesPath), classNames.Count, outputs, checkpoint.StateDict[Onnx.CheckpointValidator.HeadWeightKey].ShapeText);
        }

        return await store.ImportCustomAsync(model, checkpoint.StateDict, fileName, sha256, normalization, ct);
    }
}

/// <summary>A weights file whose extension names no format the importer reads.</summary>
public sealed class UnsupportedWeightsFileException(string path, IEnumerable<string> supported)
    : Exception($"{Path.GetFileName(path)}: unsupported file type '{Path.GetExtension(path)}'; expected one of {string.Join(", ", supported)}.")
{
    public string FilePath { get; } = path;
}
