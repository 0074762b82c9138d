namespace EfficientNet.Batch.Storage;

/// <summary>
/// A flat namespace of objects addressed by '/'-separated keys: one Azure Blob container, or one folder of
/// the local file system. Both implementations have the same semantics, checked by one shared test suite.
/// </summary>
public interface IBlobStore
{
    /// <summary>Human-readable description for logs, e.g. <c>az://results</c> or <c>file:///data</c>.</summary>
    string Describe(string key = "");

    /// <summary>One page of the objects whose keys start with <paramref name="prefix"/>, in ordinal key order,
    /// recursively. Pass the returned token to get the next page; null when there is none.</summary>
    Task<BlobPage> ListPageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken);

    /// <summary>Opens an object for reading. Throws <see cref="BlobNotFoundException"/> when absent.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Properties of an object, or null when absent.</summary>
    Task<BlobEntry?> GetPropertiesAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes an object. With a condition, the write happens only if it holds, else
    /// <see cref="BlobConditionFailedException"/> is thrown and nothing changes.</summary>
    Task<BlobEntry> WriteAsync(string key, Stream content, WriteCondition condition, CancellationToken cancellationToken);

    /// <summary>Atomically publishes an object: the content is written under a temporary name first, then made
    /// visible under <paramref name="key"/> in one step, so readers never see a half-written object.</summary>
    Task<BlobEntry> CommitAsync(string key, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken);

    /// <summary>Deletes an object; returns false when it did not exist.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An object's key, size, entity tag and last modification time, and its Content-MD5 (base64) when the store
/// keeps one (Azure Blob: set for single-shot uploads; the file system keeps none).</summary>
public sealed record BlobEntry(string Key, long Size, string ETag, DateTimeOffset LastModified, string? ContentMd5 = null);

public sealed record BlobPage(IReadOnlyList<BlobEntry> Items, string? ContinuationToken);

/// <summary>Optimistic concurrency for <see cref="IBlobStore.WriteAsync"/>.</summary>
public readonly record struct WriteCondition(string? IfMatchETag, bool IfAbsent)
{
    public static WriteCondition None => default;
    public static WriteCondition Absent => new(null, true);
    public static WriteCondition Matches(string etag) => new(etag, false);
}

public sealed class BlobNotFoundException(string key, Exception? inner = null)
    : Exception($"Object '{key}' does not exist.", inner)
{
    public string Key { get; } = key;
}

public sealed class BlobConditionFailedException(string key, Exception? inner = null)
    : Exception($"Object '{key}' was changed or already exists (write condition not met).", inner)
{
    public string Key { get; } = key;
}
