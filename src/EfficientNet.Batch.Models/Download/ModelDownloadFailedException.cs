namespace EfficientNet.Batch.Models.Download;

/// <summary>One URL tried by a pull and why it failed.</summary>
public sealed record PullAttempt(Uri Url, string Reason);

/// <summary>Every checkpoint URL of a model failed; the message lists each attempt.</summary>
public sealed class ModelDownloadFailedException(string modelId, IReadOnlyList<PullAttempt> attempts)
    : Exception($"Could not download model '{modelId}': "
        + (attempts.Count == 0
            ? "the catalogue lists no checkpoint URL for it."
            : string.Join(" ", attempts.Select((a, i) => $"[{i + 1}/{attempts.Count}] {a.Url}: {a.Reason.TrimEnd('.')}.")))
        + $" Import a checkpoint by hand with `effnet models import FILE --model {modelId}`.")
{
    public string ModelId { get; } = modelId;

    public IReadOnlyList<PullAttempt> Attempts { get; } = attempts;
}
