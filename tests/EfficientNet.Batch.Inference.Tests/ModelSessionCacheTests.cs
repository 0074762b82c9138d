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
        Parallel.For(0, 16, _ => sessions.Add(cache.Get(path)));

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

        Assert.Equal(5, cache.Get(first).ClassCount);
        Assert.Equal(7, cache.Get(second).ClassCount);
        Assert.Same(cache.Get(first), cache.Get(Path.Combine(_directory.Path, ".", Path.GetFileName(first))));
    }

    [Fact]
    public void A_cuda_fallback_is_logged_with_its_reason()
    {
        var path = new TinyOnnxModel().WriteTo(_directory.Path);
        var selector = new ExecutionProviderSelector((_, _) => throw new DllNotFoundException("libcudnn.so.9 not found"));
        using var cache = new ModelSessionCache(Options.Create(new InferenceOptions { Device = InferenceDevice.Auto }), selector, _logger);

        Assert.Equal(ExecutionProviderNames.Cpu, cache.Get(path).ExecutionProvider);

        Assert.Contains(_logger.Messages, m => m.Contains("falls back to CPUExecutionProvider", StringComparison.Ordinal) && m.Contains("libcudnn.so.9", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_creation_is_not_cached()
    {
        var path = Path.Combine(_directory.Path, "late.onnx");
        using var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });

        Assert.Throws<FileNotFoundException>(() => cache.Get(path));
        File.Copy(new TinyOnnxModel().WriteTo(_directory.Path), path);

        Assert.Equal(5, cache.Get(path).ClassCount);
    }

    [Fact]
    public void Disposing_the_cache_disposes_its_sessions()
    {
        var path = new TinyOnnxModel().WriteTo(_directory.Path);
        var cache = CreateCache(new InferenceOptions { Device = InferenceDevice.Cpu });
        var session = cache.Get(path);

        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run(new float[session.ImageLength], 1, new float[session.ClassCount]));
        Assert.Throws<ObjectDisposedException>(() => cache.Get(path));
    }

    private ModelSessionCache CreateCache(InferenceOptions options) =>
        new(Options.Create(options), new ExecutionProviderSelector(), _logger);

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
