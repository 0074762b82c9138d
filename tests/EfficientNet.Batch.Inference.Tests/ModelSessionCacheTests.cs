using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class ModelSessionCacheTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly RecordingLogger _logger = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Concurrent_callers_share_one_session_and_the_provider_is_logged_once()
    {
        var path = new TinyOnnxModel().WriteTo(_directory.Path);
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });

        var sessions = new ConcurrentBag<ModelSession>();
        Parallel.For(0, 16, _ => sessions.Add(cache.Acquire(path).Session));

        Assert.Single(sessions.Distinct());
        Assert.Equal(1, cache.Count);
        var message = Assert.Single(_logger.Messages);
        Assert.Equal($"Model {Path.GetFullPath(path)} runs on {ExecutionProviderNames.Cpu}", message);
    }

    [Fact]
    public void Each_model_file_gets_its_own_session()
    {
        var first = new TinyOnnxModel(classCount: 5).WriteTo(_directory.Path);
        var second = new TinyOnnxModel(classCount: 7).WriteTo(_directory.Path);
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });

        Assert.Equal(5, cache.Acquire(first).Session.ClassCount);
        Assert.Equal(7, cache.Acquire(second).Session.ClassCount);
        Assert.Same(cache.Acquire(first).Session, cache.Acquire(Path.Combine(_directory.Path, ".", Path.GetFileName(first))).Session);
    }

    [Fact]
    public void A_cuda_fallback_is_logged_with_its_reason()
    {
        var path = new TinyOnnxModel().WriteTo(_directory.Path);
        var selector = new ExecutionProviderSelector((_, _) => throw new DllNotFoundException("libcudnn.so.9 not found"));
        using var cache = new ModelSessionCache(Options.Create(new InferenceOptions { Device = InferenceDevice.Auto }), selector, _logger);

        Assert.Equal(ExecutionProviderNames.Cpu, cache.Acquire(path).Session.ExecutionProvider);

        Assert.Contains(_logger.Messages, m => m.Contains("falls back to CPUExecutionProvider", StringComparison.Ordinal) && m.Contains("libcudnn.so.9", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_creation_is_not_cached()
    {
        var path = Path.Combine(_directory.Path, "late.onnx");
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });

        Assert.Throws<FileNotFoundException>(() => cache.Acquire(path));
        File.Copy(new TinyOnnxModel().WriteTo(_directory.Path), path);

        Assert.Equal(5, cache.Acquire(path).Session.ClassCount);
    }

    [Fact]
    public void Disposing_the_cache_disposes_its_sessions()
    {
        var path = new TinyOnnxModel().WriteTo(_directory.Path);
        var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });
        var session = cache.Acquire(path).Session;

        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run(new float[session.ImageLength], 1, new float[session.ClassCount]));
        Assert.Throws<ObjectDisposedException>(() => cache.Acquire(path));
    }

    [Fact]
    public void Past_the_limit_the_least_recently_used_session_is_unloaded()
    {
        var paths = Enumerable.Range(0, 3).Select(i => new TinyOnnxModel(classCount: 5 + i).WriteTo(_directory.Path)).ToArray();
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu }, maxLoadedModels: 2);
        ModelSession Use(string path)
        {
            using var lease = cache.Acquire(path);
            return lease.Session;
        }

        var first = Use(paths[0]);
        var second = Use(paths[1]);
        Assert.Same(first, Use(paths[0]));  // paths[0] is now the most recent: paths[1] goes next
        var third = Use(paths[2]);

        Assert.Equal(2, cache.Count);
        Assert.Throws<ObjectDisposedException>(() => second.Run(new float[second.ImageLength], 1, new float[second.ClassCount]));
        first.Run(new float[first.ImageLength], 1, new float[first.ClassCount]);
        third.Run(new float[third.ImageLength], 1, new float[third.ClassCount]);
        Assert.Contains(_logger.Messages, m => m.Contains("unloaded", StringComparison.Ordinal) && m.Contains(Path.GetFileName(paths[1]), StringComparison.Ordinal));
        // An unloaded model is loaded again when asked for.
        Assert.NotSame(second, Use(paths[1]));
    }

    [Fact]
    public void An_evicted_session_in_use_is_disposed_only_when_its_last_lease_ends()
    {
        var first = new TinyOnnxModel(classCount: 5).WriteTo(_directory.Path);
        var second = new TinyOnnxModel(classCount: 6).WriteTo(_directory.Path);
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu }, maxLoadedModels: 1);

        var running = cache.Acquire(first);
        var alsoRunning = cache.Acquire(first);
        using (cache.Acquire(second))
        {
        }

        Assert.Equal(1, cache.Count);
        Assert.Equal(1, cache.Retiring);
        running.Dispose();
        running.Dispose();  // a second dispose of one lease ends nothing more
        var session = alsoRunning.Session;
        session.Run(new float[session.ImageLength], 1, new float[session.ClassCount]);
        alsoRunning.Dispose();

        Assert.Equal(0, cache.Retiring);
        Assert.Throws<ObjectDisposedException>(() => session.Run(new float[session.ImageLength], 1, new float[session.ClassCount]));
    }

    [Fact]
    public void New_weights_over_the_same_file_get_a_new_session()
    {
        var path = new TinyOnnxModel(classCount: 5).WriteTo(_directory.Path);
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });
        using var old = cache.Acquire(path, "sha-of-the-old-weights");
        File.Copy(new TinyOnnxModel(classCount: 9).WriteTo(_directory.Path), path, overwrite: true);

        using var fresh = cache.Acquire(path, "sha-of-the-new-weights");

        Assert.Equal(5, old.Session.ClassCount);
        Assert.Equal(9, fresh.Session.ClassCount);
    }

    private ModelSessionCache CreateCache(InferenceOptions options, int maxLoadedModels = 0) =>
        new(Options.Create(options), new ExecutionProviderSelector(), _logger, Options.Create(new ModelSessionCacheOptions { MaxLoadedModels = maxLoadedModels }));

    private sealed class RecordingLogger : ILogger<ModelSessionCache>
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue(formatter(state, exception));
    }
}
