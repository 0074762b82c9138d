namespace EfficientNet.Batch.Models.Store;

/// <summary>The shared model store has no object under the key a model needs.</summary>
public sealed class RemoteModelNotFoundException(string modelId, string key)
    : Exception($"Model '{modelId}' is not in the shared model store (no '{key}'). "
        + $"Publish it from a machine that has it: `effnet models pull {modelId}` or `import`, then publish.")
{
    public string ModelId { get; } = modelId;

    public string Key { get; } = key;
}
