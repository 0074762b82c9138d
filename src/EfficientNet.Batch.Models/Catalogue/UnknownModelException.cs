namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>A model id that is neither in the catalogue nor a custom model in the store; the message lists every
/// valid id.</summary>
/// <param name="customIds">Custom models the store holds, listed after the zoo's ids.</param>
public sealed class UnknownModelException(string modelId, IEnumerable<string> validIds, IEnumerable<string>? customIds = null)
    : Exception($"Unknown model '{modelId}'. Valid ids: {string.Join(", ", validIds)}."
        + (customIds?.ToList() is { Count: > 0 } custom ? $" Custom models in the store: {string.Join(", ", custom)}." : "")
        + " A fine-tuned model of your own is imported with `effnet models import FILE --model NAME --arch ARCH --classes NAMES.txt`.")
{
    public string ModelId { get; } = modelId;
}
