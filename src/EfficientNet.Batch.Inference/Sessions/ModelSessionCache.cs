using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// One <see cref="ModelSession"/> per (model file, device), created on first use and shared by every caller:
/// sessions are expensive to create (graph optimisation, CUDA context) and safe to run concurrently.
/// Disposing the cache disposes its sessions.
/// </summary>
public sealed partial class ModelSessionCache : IDisposable
{
    private readonly ConcurrentDictionary<SessionKey, Lazy<ModelSession>> _sessions = new();
    private readonly InferenceOptions _options;
    private readonly ExecutionProviderSelector _providerSelector;
    private readonly ILogger<ModelSessionCache> _logger;
    private volatile bool _disposed;

    public ModelSessionCache(IOptions<InferenceOptions> options, ExecutionProviderSelector providerSelector, ILogger<ModelSessionCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _providerSelector = providerSelector;
        _logger = logger;
    }

    /// <summary>Sessions created so far (failed creations are not kept).</summary>
    public int Count => _sessions.Count(entry => entry.Value.IsValueCreated);

    /// <summary>The session for <paramref name="onnxPath"/> on the configured device, created on first call.</summary>
    public ModelSession Get(string onnxPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The full path, so "./m.onnx" and "/app/m.onnx" share a session; the device, so a cache built for a
        // different device setting never hands out a session on the wrong provider.
        var key = new SessionKey(Path.GetFullPath(onnxPath), _options.Device, _options.DeviceId);
        var lazy = _sessions.GetOrAdd(key, k => new Lazy<ModelSession>(() => Create(k), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // Lazy caches exceptions; drop the entry so a fixed file or driver can be picked up by a later call.
            _sessions.TryRemove(new KeyValuePair<SessionKey, Lazy<ModelSession>>(key, lazy));
            throw;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var entry in _sessions.Values)
        {
            if (entry.IsValueCreated)
            {
                entry.Value.Dispose();
            }
        }

        _sessions.Clear();
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

    private readonly record struct SessionKey(string ModelPath, InferenceDevice Device, int DeviceId);
}
