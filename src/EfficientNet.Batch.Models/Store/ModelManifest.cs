using System.Text.Json;

namespace EfficientNet.Batch.Models.Store;

/// <summary>The JSON written next to every stored ONNX file. It is written after the ONNX file, so its presence
/// means the pair is complete.</summary>
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
    DateTimeOffset CreatedUtc)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
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
