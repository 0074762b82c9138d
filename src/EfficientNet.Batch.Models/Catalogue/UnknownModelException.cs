namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>A model id that is not in the catalogue; the message lists every valid id.</summary>
public sealed class UnknownModelException(string modelId, IEnumerable<string> validIds)
    : Exception($"Unknown model '{modelId}'. Valid ids: {string.Join(", ", validIds)}.")
{
    public string ModelId { get; } = modelId;
}
