using System.Collections.Concurrent;
using System.Globalization;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Simulation;

/// <summary>
/// Storage for scale tests and benchmarks: <c>sim://data</c> is a dataset of <see cref="SimulatedDataset.Count"/>
/// images that exist only as listing entries (no bytes are stored; every attempt to read one is counted), and
/// <c>sim://out</c> keeps what is written in memory.
/// </summary>
public sealed class SimulatedStorage : IStorageResolver
{
    public SimulatedStorage(int images) => Dataset = new SimulatedDataset(images);

    public SimulatedDataset Dataset { get; }

    public MemoryBlobStore Output { get; } = new();

    public ResolvedLocation Resolve(string location) => location switch
    {
        "sim://data" => new ResolvedLocation(Dataset, ""),
        _ when location.StartsWith("sim://out", StringComparison.Ordinal) => new ResolvedLocation(Output, location["sim://out".Length..].Trim('/')),
        _ => throw new ArgumentException($"Unknown simulated location '{location}'."),
    };
}

/// <summary>Images <c>img/0000000.jpg</c>…: listed with a size, an ETag that <see cref="Change"/> alters, and a fixed
/// modification time.</summary>
public sealed class SimulatedDataset(int count) : IBlobStore
{
    private static readonly DateTimeOffset Written = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ConcurrentDictionary<int, int> _versions = new();
    private long _reads;

    public int Count { get; } = count;

    /// <summary>Attempts to open an image's bytes.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    public static string Key(int index) => $"img/{index.ToString("D7", CultureInfo.InvariantCulture)}.jpg";

    /// <summary>Makes image <paramref name="index"/> look rewritten (a new ETag).</summary>
    public void Change(int index) => _versions.AddOrUpdate(index, 1, (_, v) => v + 1);

    public BlobEntry Entry(int index) =>
        new(Key(index), 100_000 + (index % 5000), $"0x{index:x8}-{_versions.GetValueOrDefault(index)}", Written);

    public string Describe(string key = "") => $"sim://data/{key}";

    public Task<BlobPage> ListPageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        var start = continuationToken is null ? 0 : int.Parse(continuationToken, CultureInfo.InvariantCulture);
        if (prefix.Length > 0 && !"img/".StartsWith(prefix, StringComparison.Ordinal))
        {
            return Task.FromResult(new BlobPage([], null));
        }

        var end = Math.Min(Count, start + pageSize);
        var items = new List<BlobEntry>(end - start);
        for (var i = start; i < end; i++)
        {
            items.Add(Entry(i));
        }

        return Task.FromResult(new BlobPage(items, end < Count ? end.ToString(CultureInfo.InvariantCulture) : null));
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        throw new InvalidOperationException($"The simulated image '{key}' has no bytes: deciding what to re-score must not read images.");
    }

    public Task<BlobEntry?> GetPropertiesAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult<BlobEntry?>(key.StartsWith("img/", StringComparison.Ordinal) && int.TryParse(key[4..^4], CultureInfo.InvariantCulture, out var i) && i < Count ? Entry(i) : null);

    public Task<BlobEntry> WriteAsync(string key, Stream content, WriteCondition condition, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The simulated dataset is read-only.");

    public Task<BlobEntry> CommitAsync(string key, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The simulated dataset is read-only.");

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => Task.FromResult(false);
}

/// <summary>An in-memory blob store (ordinal listing, ETags, conditions) for what a job writes.</summary>
public sealed class MemoryBlobStore : IBlobStore
{
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string ETag)> _objects = new(StringComparer.Ordinal);
    private long _version;

    public string Describe(string key = "") => $"sim://out/{key}";

    public long SizeOf(string key) => _objects.TryGetValue(key, out var o) ? o.Bytes.LongLength : -1;

    public Task<BlobPage> ListPageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        var keys = _objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && (continuationToken is null || string.CompareOrdinal(k, continuationToken) > 0))
            .Order(StringComparer.Ordinal).Take(pageSize + 1).ToList();
        var page = keys.Take(pageSize).Select(k => new BlobEntry(k, _objects[k].Bytes.LongLength, _objects[k].ETag, DateTimeOffset.UnixEpoch)).ToList();
        return Task.FromResult(new BlobPage(page, keys.Count > pageSize ? page[^1].Key : null));
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) =>
        _objects.TryGetValue(key, out var o) ? Task.FromResult<Stream>(new MemoryStream(o.Bytes, writable: false)) : throw new BlobNotFoundException(key);

    public Task<BlobEntry?> GetPropertiesAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_objects.TryGetValue(key, out var o) ? new BlobEntry(key, o.Bytes.LongLength, o.ETag, DateTimeOffset.UnixEpoch) : null);

    public async Task<BlobEntry> WriteAsync(string key, Stream content, WriteCondition condition, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        return Put(key, buffer.ToArray(), condition);
    }

    public async Task<BlobEntry> CommitAsync(string key, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await writeContent(buffer, cancellationToken);
        return Put(key, buffer.ToArray(), WriteCondition.None);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => Task.FromResult(_objects.TryRemove(key, out _));

    private BlobEntry Put(string key, byte[] bytes, WriteCondition condition)
    {
        lock (_objects)
        {
            var exists = _objects.TryGetValue(key, out var current);
            if ((condition.IfAbsent && exists) || (condition.IfMatchETag is { } etag && (!exists || current.ETag != etag)))
            {
                throw new BlobConditionFailedException(key);
            }

            var next = (bytes, Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture));
            _objects[key] = next;
            return new BlobEntry(key, bytes.LongLength, next.Item2, DateTimeOffset.UnixEpoch);
        }
    }
}
