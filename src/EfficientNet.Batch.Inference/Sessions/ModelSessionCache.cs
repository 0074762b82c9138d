using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// One <see cref="ModelSession"/> per (model file, content, device), created on first use and shared by every caller:
/// sessions are expensive to create (graph optimisation, CUDA context) and safe to run concurrently.
/// <para>
/// At most <see cref="ModelSessionCacheOptions.MaxLoadedModels"/> sessions are kept. Adding one more evicts the least
/// recently used; a session still in use (a <see cref="ModelSessionLease"/> not yet disposed) is disposed when its last
/// lease is, so a running shard never loses its session. The content hash is part of the key: new weights written over
/// the same file get a new session, and the old one ages out.
/// </para>
/// Disposing the cache disposes its sessions.
/// </summary>
public sealed partial class ModelSessionCache : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<SessionKey, Entry> _entries = [];
    // Most recently used first.
    private readonly LinkedList<Entry> _recency = new();
    private readonly InferenceOptions _options;
    private readonly int _capacity;
    private readonly ExecutionProviderSelector _providerSelector;
    private readonly ILogger<ModelSessionCache> _logger;
    private bool _disposed;
    private int _retiring;

    public ModelSessionCache(
        IOptions<InferenceOptions> options,
        ExecutionProviderSelector providerSelector,
        ILogger<ModelSessionCache> logger,
        IOptions<ModelSessionCacheOptions>? cacheOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _capacity = (cacheOptions?.Value ?? new ModelSessionCacheOptions()).MaxLoadedModels;
        _providerSelector = providerSelector;
        _logger = logger;
    }

    /// <summary>Sessions kept (created, or being created) and not evicted.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Values.Count(e => e.Session.IsValueCreated);
            }
        }
    }

    /// <summary>Evicted sessions still in use, disposed when their last lease is.</summary>
    public int Retiring
    {
        get
        {
            lock (_gate)
            {
                return _retiring;
            }
        }
    }

    /// <summary>
    /// A lease on the session for <paramref name="onnxPath"/> (with <paramref name="contentHash"/>, the file's SHA-256,
    /// when the caller knows it) on the configured device, created on first call. Dispose the lease when done with the
    /// session.
    /// </summary>
    public ModelSessionLease Acquire(string onnxPath, string? contentHash = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        // The full path, so "./m.onnx" and "/app/m.onnx" share a session; the device, so a cache built for a
        // different device setting never hands out a session on the wrong provider.
        var key = new SessionKey(Path.GetFullPath(onnxPath), contentHash ?? "", _options.Device, _options.DeviceId);
        Entry entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue(key, out var found))
            {
                entry = found;
                _recency.Remove(entry.Node);
                _recency.AddFirst(entry.Node);
            }
            else
            {
                entry = new Entry(key, new Lazy<ModelSession>(() => Create(key), LazyThreadSafetyMode.ExecutionAndPublication));
                entry.Node = _recency.AddFirst(entry);
                _entries[key] = entry;
            }

            entry.Leases++;
        }

        try
        {
            _ = entry.Session.Value;
        }
        catch
        {
            // Lazy caches exceptions; drop the entry so a fixed file or driver can be picked up by a later call.
            lock (_gate)
            {
                entry.Leases--;
                if (_entries.TryGetValue(key, out var current) && current == entry)
                {
                    _entries.Remove(key);
                    _recency.Remove(entry.Node);
                }
            }

            throw;
        }

        EvictOverCapacity(except: entry);
        return new ModelSessionLease(this, entry);
    }

    public void Dispose()
    {
        List<Entry> all;
        lock (_gate)
        {
            _disposed = true;
            all = [.. _entries.Values];
            _entries.Clear();
            _recency.Clear();
        }

        foreach (var entry in all)
        {
            DisposeSession(entry);
        }
    }

    private void EvictOverCapacity(Entry except)
    {
        List<Entry> disposeNow = [];
        lock (_gate)
        {
            for (var node = _recency.Last; _capacity > 0 && _entries.Count > _capacity && node is not null;)
            {
                var victim = node.Value;
                node = node.Previous;
                if (victim == except)
                {
                    continue;
                }

                _entries.Remove(victim.Key);
                _recency.Remove(victim.Node);
                victim.Evicted = true;
                LogEvicted(_logger, victim.Key.ModelPath, _capacity);
                if (victim.Leases == 0)
                {
                    disposeNow.Add(victim);
                }
                else
                {
                    _retiring++;
                }
            }
        }

        foreach (var entry in disposeNow)
        {
            DisposeSession(entry);
        }
    }

    /// <summary>Ends a lease: disposes an evicted session when its last lease ends.</summary>
    internal void Release(Entry entry)
    {
        bool dispose;
        lock (_gate)
        {
            entry.Leases--;
            dispose = entry.Evicted && entry.Leases == 0;
            if (dispose)
            {
                _retiring--;
            }
        }

        if (dispose)
        {
            DisposeSession(entry);
        }
    }

    private static void DisposeSession(Entry entry)
    {
        if (entry.Session.IsValueCreated)
        {
            entry.Session.Value.Dispose();
        }
    }

    private ModelSession Create(SessionKey key)
    {
        var session = ModelSession.Open(key.ModelPath, _options, _providerSelector);
        if (session.Provider.FallbackReason is { } reason)
        {
            LogFallback(_logger, key.ModelPath, session.ExecutionProvider, reason);
        }

        LogProvider(_logger, key.ModelPath, session.ExecutionProvider);
        return session;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Model {Model} runs on {Provider}")]
    private static partial void LogProvider(ILogger logger, string model, string provider);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Model {Model} falls back to {Provider}: {Reason}")]
    private static partial void LogFallback(ILogger logger, string model, string provider, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Model {Model} unloaded: least recently used of more than {MaxLoadedModels} loaded models")]
    private static partial void LogEvicted(ILogger logger, string model, int maxLoadedModels);

    internal readonly record struct SessionKey(string ModelPath, string ContentHash, InferenceDevice Device, int DeviceId);

    internal sealed class Entry(SessionKey key, Lazy<ModelSession> session)
    {
        public SessionKey Key { get; } = key;

        public Lazy<ModelSession> Session { get; } = session;

        public LinkedListNode<Entry> Node { get; set; } = null!;

        public int Leases { get; set; }

        public bool Evicted { get; set; }
    }
}

/// <summary>The use of a cached <see cref="ModelSession"/>: the session is not disposed, even when evicted, until every
/// lease on it is. Dispose it when done.</summary>
public sealed class ModelSessionLease : IDisposable
{
    private readonly ModelSessionCache _cache;
    private readonly ModelSessionCache.Entry _entry;
    private int _ended;

    internal ModelSessionLease(ModelSessionCache cache, ModelSessionCache.Entry entry)
    {
        _cache = cache;
        _entry = entry;
        Session = entry.Session.Value;
    }

    public ModelSession Session { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _cache.Release(_entry);
        }
    }
}
