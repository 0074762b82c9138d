namespace EfficientNet.Batch.Models.Store;

/// <summary>An ONNX file whose SHA-256 is not the one its manifest records: a corrupt or substituted copy.
/// It was not installed (or, for a local file, not used).</summary>
/// <param name="remedy">What to do about it, appended to the message (e.g. pull or import the model again).</param>
public sealed class ModelHashMismatchException(string modelId, string source, string expectedSha256, string actualSha256, string? remedy = null)
    : Exception($"Model '{modelId}': {source} has SHA-256 {actualSha256}, but its manifest records {expectedSha256}." + (remedy is null ? "" : " " + remedy))
{
    public string ModelId { get; } = modelId;

    public string ExpectedSha256 { get; } = expectedSha256;

    public string ActualSha256 { get; } = actualSha256;
}
