using System.Diagnostics;
using System.Globalization;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Components.Benchmarking;

/// <summary>What to benchmark: a model, a folder of images and how many images to push through the pipeline.</summary>
/// <param name="Count">Images through the full pipeline, cycling through the folder's files.</param>
/// <param name="StageCount">Images for the decode-only and inference-only stages; default min(Count, 1000).</param>
/// <param name="Rounds">Each stage is measured this many times, the stages interleaved (a, b, plain, c, a, b, …), and
/// the median of each is reported: on a shared machine the load changes between stages, and interleaving keeps the
/// ratios (c / limit, tuned / plain) from comparing a quiet minute with a busy one.</param>
public sealed record ThroughputBenchmarkSettings(string ModelId, string ImagesDirectory, int Count, bool RandomWeights, int Seed, int? StageCount = null, int Rounds = 1);

/// <summary>
/// Measures the worker's stages on this machine: (a) decode + preprocess alone on every decode thread, (b) inference
/// alone on pre-made tensors in fixed batches (tuned session, and a session with default SessionOptions), (c) the
/// real <see cref="ImageBatchClassifier"/> over the files' bytes held in memory (so storage is not measured), with
/// the process's RSS sampled as the images go by. Batch size and thread counts come from the options, exactly as
/// a worker would use them.
/// </summary>
public sealed class ThroughputBenchmark(
    ModelStore models,
    ModelSessionCache sessions,
    PreprocessorCache preprocessors,
    ImageBatchClassifier classifier,
    IOptions<WorkerOptions> worker,
    IOptions<InferenceOptions> inference)
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"];

    /// <summary>Runs the three measurements; <paramref name="log"/> receives a line as each stage starts.</summary>
    public async Task<ThroughputReport> RunAsync(ThroughputBenchmarkSettings settings, TextWriter? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Count, 1);
        var files = LoadFiles(settings.ImagesDirectory);
        var resolved = await models.ResolveAsync(settings.ModelId, settings.RandomWeights ? settings.Seed : null, cancellationToken);
        var session = sessions.Get(resolved.OnnxPath);
        var variant = resolved.Variant;
        var preprocessor = preprocessors.Get(new PreprocessSpec(variant.Resolution, variant.Mean, variant.Std));
        var batchSize = inference.Value.BatchSize;
        var stageCount = Math.Max(1, settings.StageCount ?? Math.Min(settings.Count, 1000));

        var rounds = Math.Max(1, settings.Rounds);
        var inputs = new ImageInput[settings.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var (path, bytes) = files[i % files.Count];
            inputs[i] = ImageInput.FromBytes(path, bytes);
        }

        var decode = new double[rounds];
        var tuned = new double[rounds];
        var plain = new double[rounds];
        var pipeline = new double[rounds];
        var failed = 0;
        MemorySampler? memory = null;
        var tensor = session.RentBatch(batchSize);
        try
        {
            FillWithImages(tensor, preprocessor, files);
            for (var round = 0; round < rounds; round++)
            {
                log?.WriteLine($"round {round + 1}/{rounds}: (a) decode + preprocess, {stageCount} images on {worker.Value.EffectiveDecodeParallelism} threads");
                decode[round] = MeasureDecode(preprocessor, files, stageCount, worker.Value.EffectiveDecodeParallelism, cancellationToken);

                log?.WriteLine($"round {round + 1}/{rounds}: (b) inference only, {stageCount} images in batches of {batchSize}, tuned session and default SessionOptions");
                tuned[round] = MeasureInference(stageCount, batchSize, () => session.Run(tensor), cancellationToken);
                plain[round] = MeasurePlainInference(resolved.OnnxPath, tensor, stageCount, cancellationToken);

                log?.WriteLine($"round {round + 1}/{rounds}: (c) full pipeline, {settings.Count} images (bytes in memory) through ImageBatchClassifier");
                memory?.Dispose();
                memory = new MemorySampler();
                var sampler = memory;
                var done = 0L;
                var started = Stopwatch.GetTimestamp();
                var run = await classifier.ClassifyAsync(
                    new ModelRef(variant.Id, settings.RandomWeights, settings.Seed),
                    inputs,
                    topK: 5,
                    images => sampler.Progress(Interlocked.Add(ref done, images)),
                    cancellationToken);
                pipeline[round] = settings.Count / Stopwatch.GetElapsedTime(started).TotalSeconds;
                sampler.Stop();
                failed = run.Failed;
            }
        }
        finally
        {
            session.ReturnBatch(tensor);
            memory?.Dispose();
        }

        return new ThroughputReport
        {
            Model = variant.Id,
            Resolution = variant.Resolution,
            BatchSize = batchSize,
            ExecutionProvider = session.ExecutionProvider,
            Cores = Environment.ProcessorCount,
            DecodeThreads = worker.Value.EffectiveDecodeParallelism,
            IntraOpThreads = inference.Value.IntraOpThreads,
            Images = settings.Count,
            StageImages = stageCount,
            DistinctFiles = files.Count,
            MultiplyAddsPerImage = variant.Architecture.MultiplyAdds,
            Rounds = rounds,
            DecodeImagesPerSecond = Median(decode),
            InferenceImagesPerSecond = Median(tuned),
            PlainInferenceImagesPerSecond = Median(plain),
            PipelineImagesPerSecond = Median(pipeline),
            PipelineErrors = failed,
            PeakRssBytes = MemorySampler.PeakRss(),
            FirstThousandPeakRssBytes = memory!.PeakWhile(0, 1000),
            LastThousandPeakRssBytes = memory.PeakWhile(Math.Max(0, settings.Count - 1000), settings.Count),
        };
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static List<(string Path, byte[] Bytes)> LoadFiles(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Image folder not found: {directory}");
        }

        var files = Directory.EnumerateFiles(directory)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))
            .ToList();
        return files.Count > 0 ? files : throw new InvalidOperationException($"No images (.jpg, .png, …) in {directory}.");
    }

    // Every decode thread takes the next image from a shared counter and writes into its own tensor, as the pipeline's
    // decoders do (minus the batch hand-off). Undecodable files count as done: the pipeline pays for them too.
    private static double MeasureDecode(ImagePreprocessor preprocessor, List<(string Path, byte[] Bytes)> files, int count, int threads, CancellationToken cancellationToken)
    {
        var warmUp = new float[preprocessor.TensorLength];
        DecodeOne(preprocessor, files[0].Bytes, warmUp);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var destination = new float[preprocessor.TensorLength];
                for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    DecodeOne(preprocessor, files[i % files.Count].Bytes, destination);
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        Task.WaitAll(workers, cancellationToken);
        return count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static void DecodeOne(ImagePreprocessor preprocessor, byte[] bytes, Span<float> destination)
    {
        try
        {
            preprocessor.Preprocess(bytes, destination);
        }
        catch (ImageDecodeException)
        {
        }
    }

    private static void FillWithImages(InferenceBatch tensor, ImagePreprocessor preprocessor, List<(string Path, byte[] Bytes)> files)
    {
        for (var slot = 0; slot < tensor.Capacity; slot++)
        {
            DecodeOne(preprocessor, files[slot % files.Count].Bytes, tensor.Image(slot));
        }
    }

    // Whole batches only: a partial batch would change the shape and measure a re-plan, not steady state.
    private static double MeasureInference(int count, int batchSize, Action runBatch, CancellationToken cancellationToken)
    {
        runBatch(); // warm-up: the first run plans memory and (on CUDA) searches convolution algorithms
        var batches = Math.Max(1, (count + batchSize - 1) / batchSize);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < batches; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            runBatch();
        }

        return batches * batchSize / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    // The same graph and the same input on `new InferenceSession(path)`: what ONNX Runtime does untuned.
    private static double MeasurePlainInference(string onnxPath, InferenceBatch tensor, int count, CancellationToken cancellationToken)
    {
        using var session = new InferenceSession(onnxPath);
        var input = tensor.Input.ToArray();
        var shape = new long[] { tensor.Capacity, 3, (long)Math.Sqrt(tensor.ImageLength / 3), (long)Math.Sqrt(tensor.ImageLength / 3) };
        var output = new float[tensor.Capacity * tensor.ClassCount];
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(), shape);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, output.AsMemory(), [tensor.Capacity, tensor.ClassCount]);
        using var runOptions = new RunOptions();
        string[] inputNames = [ModelSession.InputName], outputNames = [ModelSession.OutputName];
        OrtValue[] inputs = [inputValue], outputs = [outputValue];
        return MeasureInference(count, tensor.Capacity, () => session.Run(runOptions, inputNames, inputs, outputNames, outputs), cancellationToken);
    }

    /// <summary>Samples the resident set every 50 ms, tagged with how many images the pipeline had finished.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly List<(long Images, long Rss)> _samples = [];
        private readonly Timer _timer;
        private long _images;

        public MemorySampler() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));

        public void Progress(long images) => Volatile.Write(ref _images, images);

        public void Stop()
        {
            _timer.Dispose();
            Sample();
        }

        public long PeakWhile(long fromImages, long toImages)
        {
            lock (_samples)
            {
                return _samples.Where(s => s.Images >= fromImages && s.Images <= toImages).Select(s => s.Rss).DefaultIfEmpty().Max();
            }
        }

        public void Dispose() => _timer.Dispose();

        private void Sample()
        {
            var rss = ReadStatus("VmRSS:") ?? Environment.WorkingSet;
            lock (_samples)
            {
                _samples.Add((Volatile.Read(ref _images), rss));
            }
        }

        public static long PeakRss()
        {
            if (ReadStatus("VmHWM:") is { } peak)
            {
                return peak;
            }

            using var process = Process.GetCurrentProcess();
            return process.PeakWorkingSet64;
        }

        // /proc/self/status reports kB; null where there is no procfs.
        private static long? ReadStatus(string key)
        {
            const string status = "/proc/self/status";
            if (!File.Exists(status))
            {
                return null;
            }

            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var value = line[key.Length..].Trim();
                    var kilobytes = value.EndsWith("kB", StringComparison.Ordinal) ? value[..^2].Trim() : value;
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }

            return null;
        }
    }
}
