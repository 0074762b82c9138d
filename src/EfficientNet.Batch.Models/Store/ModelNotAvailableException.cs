namespace EfficientNet.Batch.Models.Store;

/// <summary>The model exists in the catalogue but no weights have been imported into the store.</summary>
public sealed class ModelNotAvailableException(string modelId, string expectedPath)
    : Exception($"Model '{modelId}' has no imported weights (looked for {expectedPath}). "
        + $"Download it with `effnet models pull {modelId}`, import a checkpoint with `effnet models import FILE --model {modelId}`, "
        + "or pass `--random-weights` for an untrained smoke test.")
{
    public string ModelId { get; } = modelId;

    public string ExpectedPath { get; } = expectedPath;
}
