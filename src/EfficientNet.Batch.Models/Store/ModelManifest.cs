using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>The JSON written next to every stored ONNX file. It is written after the ONNX file (and a custom model's
/// class names), so its presence means the set is complete.</summary>
/// <param name="Mean">The mean the weights are served with (the catalogue's unless <paramref name="NormalizationSource"/> says otherwise).</param>
/// <param name="Normalization">Name of that normalisation: <c>imagenet</c>, <c>01</c> or <c>custom</c>.</param>
/// <param name="NormalizationSource">Where Mean/Std came from; absent (null) in manifests written before overrides
/// existed, which means the catalogue's.</param>
/// <param name="ClassCount">A custom model's head outputs; absent for zoo models (1000 ImageNet classes).</param>
/// <param name="ClassesFile">A custom model's class names file beside the ONNX file (<c>classes.txt</c>); absent for zoo models.</param>
/// <param name="ClassesSha256">SHA-256 of that file, checked whenever the names are read or copied.</param>
public sealed record ModelManifest(
    string Id,
    string Arch,
    string Flavour,
    int Resolution,
    float[] Mean,
    float[] Std,
    string Normalization,
    string Weights,
    bool Untrained,
    string? SourceFile,
    string? SourceSha256,
    string OnnxFile,
    string OnnxSha256,
    DateTimeOffset CreatedUtc,
    NormalizationSource? NormalizationSource = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ClassCount = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClassesFile = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClassesSha256 = null)
{
    /// <summary>The manifest of a custom model: it names its own class names file.</summary>
    [JsonIgnore]
    public bool IsCustom => ClassesSha256 is not null;

    /// <summary>The weights are served with the catalogue's normalisation, not the one this manifest records: generated
    /// weights (untrained, no source file) always are, and so is a manifest that records no override. An imported file
    /// keeps its override even when its metadata says its weights are untrained.</summary>
    [JsonIgnore]
    public bool ServesCatalogueNormalization =>
        (Untrained && SourceFile is null) || NormalizationSource is null or Store.NormalizationSource.Catalogue;

    /// <summary>The custom model this manifest defines, with the names read from its class names file.</summary>
    /// <param name="classesFile">The bytes of <see cref="ClassesFile"/>.</param>
    /// <param name="source">Where the manifest was read (a path or a blob key), named in errors.</param>
    /// <exception cref="InvalidDataException">Not a custom model's manifest, or the names file does not match it.</exception>
    public CustomModel ToCustomModel(ReadOnlySpan<byte> classesFile, string source)
    {
        if (!IsCustom)
        {
            throw new InvalidDataException($"{source} describes '{Id}', which is not a custom model (it names no class names file).");
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(classesFile));
        if (!string.Equals(sha256, ClassesSha256, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The class names of '{Id}' ({ClassesFile}) have SHA-256 {sha256}, but {source} records {ClassesSha256}.");
        }

        try
        {
            var model = CustomModel.Create(Id, Arch, ClassNames.FromBytes(classesFile, ClassesFile ?? ClassNames.FileName));
            return model.ClassNames.Count == ClassCount
                ? model
                : throw new InvalidDataException($"{source} records {ClassCount} classes for '{Id}', its class names file has {model.ClassNames.Count}.");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source} does not define a usable custom model: {e.Message}", e);
        }
    }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, ModelManifestJsonContext.Default.ModelManifest);

    public static async Task<ModelManifest> ReadAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        return await ReadAsync(stream, path, ct);
    }

    /// <param name="source">Named in errors: a path or a blob key.</param>
    public static async Task<ModelManifest> ReadAsync(Stream stream, string source, CancellationToken ct)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, ModelManifestJsonContext.Default.ModelManifest, ct)
                ?? throw new InvalidDataException($"{source} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a model manifest: {e.Message}", e);
        }
    }
}

/// <summary>The manifest's JSON (snake_case, indented), generated at compile time: every process that serves a model
/// reads a manifest on the way to its first batch, and the reflection-based serializer would first build its metadata
/// and JIT-compile its converters (docs/benchmarks.md, *Start-up*).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    Converters = [typeof(SnakeCaseNormalizationSourceConverter)])]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ModelManifestJsonContext : JsonSerializerContext;

/// <summary><see cref="NormalizationSource"/> as snake_case strings (<c>file_metadata</c>).</summary>
internal sealed class SnakeCaseNormalizationSourceConverter() : JsonStringEnumConverter<NormalizationSource>(JsonNamingPolicy.SnakeCaseLower);
