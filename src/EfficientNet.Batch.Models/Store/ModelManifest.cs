using System.Text.Json;
using System.Text.Json.Serialization;

namespace EfficientNet.Batch.Models.Store;

/// <summary>The JSON written next to every stored ONNX file. It is written after the ONNX file, so its presence
/// means the pair is complete.</summary>
/// <param name="Mean">The mean the weights are served with (the catalogue's unless <paramref name="NormalizationSource"/> says otherwise).</param>
/// <param name="Normalization">Name of that normalisation: <c>imagenet</c>, <c>01</c> or <c>custom</c>.</param>
/// <param name="NormalizationSource">Where Mean/Std came from; absent (null) in manifests written before overrides
/// existed, which means the catalogue's.</param>
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
    NormalizationSource? NormalizationSource = null)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter<NormalizationSource>(JsonNamingPolicy.SnakeCaseLower) },
    };

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

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
            return await JsonSerializer.DeserializeAsync<ModelManifest>(stream, Options, ct)
                ?? throw new InvalidDataException($"{source} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a model manifest: {e.Message}", e);
        }
    }
}
