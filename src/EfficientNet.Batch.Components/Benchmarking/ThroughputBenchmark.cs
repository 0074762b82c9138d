using System.Diagnostics;
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
        using var lease = sessions.Acquire(resolved.OnnxPath, resolved.OnnxSha256);
        var session = lease.Session;
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
        var ratios = new double[rounds];
        var pipeline = new double[rounds];
        var failed = 0;
        long allocatedPerImage = 0;
        var gen2Collections = 0;
        MemorySampler? memory = null;
        var tensor = session.RentBatch(batchSize);
        try
        {
            FillWithImages(tensor, preprocessor, files);
            using var plainSession = new PlainSession(session, tensor);
            for (var round = 0; round < rounds; round++)
            {
                log?.WriteLine($"round {round + 1}/{rounds}: (a) decode + preprocess, {stageCount} images on {worker.Value.EffectiveDecodeParallelism} threads");
                decode[round] = MeasureDecode(preprocessor, files, stageCount, worker.Value.EffectiveDecodeParallelism, cancellationToken);

                log?.WriteLine($"round {round + 1}/{rounds}: (b) inference only, {stageCount} images in batches of {batchSize} on each session, tuned and default SessionOptions alternating");
                // Which session opens the ABBA sequence alternates by round, so that neither always goes first.
                (tuned[round], plain[round]) = round % 2 == 0
                    ? MeasureInferencePair(stageCount, batchSize, () => session.Run(tensor), plainSession.Run, cancellationToken)
                    : Swap(MeasureInferencePair(stageCount, batchSize, plainSession.Run, () => session.Run(tensor), cancellationToken));
                ratios[round] = tuned[round] / plain[round];

                log?.WriteLine($"round {round + 1}/{rounds}: (c) full pipeline, {settings.Count} images (bytes in memory) through ImageBatchClassifier");
                memory?.Dispose();
                memory = new MemorySampler();
                var sampler = memory;
                var done = 0L;
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var gen2Before = GC.CollectionCount(2);
                var started = Stopwatch.GetTimestamp();
                var run = await classifier.ClassifyAsync(
                    new ModelRef(variant.Id, settings.RandomWeights, settings.Seed),
                    inputs,
                    topK: 5,
                    images => sampler.Progress(Interlocked.Add(ref done, images)),
                    cancellationToken);
                pipeline[round] = settings.Count / Stopwatch.GetElapsedTime(started).TotalSeconds;
                allocatedPerImage = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / settings.Count;
                gen2Collections = GC.CollectionCount(2) - gen2Before;
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
            Precision = session.Precision.ToString(),
            Cores = Environment.ProcessorCount,
            DecodeThreads = worker.Value.EffectiveDecodeParallelism,
            IntraOpThreads = inference.Value.IntraOpThreads,
            IntraOpSpinning = inference.Value.IntraOpSpinning.ToString(),
            Images = settings.Count,
            StageImages = stageCount,
            DistinctFiles = files.Count,
            MultiplyAddsPerImage = variant.Architecture.MultiplyAdds,
            Rounds = rounds,
            DecodeImagesPerSecond = ThroughputReport.Median(decode),
            InferenceImagesPerSecond = ThroughputReport.Median(tuned),
            PlainInferenceImagesPerSecond = ThroughputReport.Median(plain),
            InferenceRatios = ratios,
            PipelineImagesPerSecond = ThroughputReport.Median(pipeline),
            PipelineErrors = failed,
            PipelineAllocatedBytesPerImage = allocatedPerImage,
            PipelineGen2Collections = gen2Collections,
            PeakRssBytes = Math.Max(ProcessMemory.PeakRss(), memory!.PeakWhile(0, long.MaxValue)),
            FirstThousandPeakRssBytes = memory.PeakWhile(0, 1000),
            LastThousandPeakRssBytes = memory.PeakWhile(Math.Max(0, settings.Count - 1000), settings.Count),
        };
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
        DecodeOne(preprocessor, files[0], warmUp);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var destination = new float[preprocessor.TensorLength];
                for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    DecodeOne(preprocessor, files[i % files.Count], destination);
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        Task.WaitAll(workers, cancellationToken);
        return count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    // With the file's name, as the worker decodes: the extension check is part of the measured cost.
    private static void DecodeOne(ImagePreprocessor preprocessor, (string Path, byte[] Bytes) file, Span<float> destination)
    {
        try
        {
            preprocessor.Preprocess(file.Bytes, destination, file.Path);
        }
        catch (ImageDecodeException)
        {
        }
    }

    private static void FillWithImages(InferenceBatch tensor, ImagePreprocessor preprocessor, List<(string Path, byte[] Bytes)> files)
    {
        for (var slot = 0; slot < tensor.Capacity; slot++)
        {
            DecodeOne(preprocessor, files[slot % files.Count], tensor.Image(slot));
        }
    }

    /// <summary>Returns once the process used less than half a core over a 20 ms window (Linux counts CPU time in 10 ms
    /// ticks), or after 2 s.</summary>
    private static void WaitForIdleThreads(CancellationToken cancellationToken)
    {
        var window = TimeSpan.FromMilliseconds(20);
        using var process = Process.GetCurrentProcess();
        var deadline = Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency);
        var before = process.TotalProcessorTime;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            cancellationToken.WaitHandle.WaitOne(window);
            cancellationToken.ThrowIfCancellationRequested();
            process.Refresh();
            var now = process.TotalProcessorTime;
            if (now - before < window / 2)
            {
                return;
            }

            before = now;
        }
    }

    private static (double First, double Second) Swap((double First, double Second) pair) => (pair.Second, pair.First);

    // Whole batches only: a partial batch would change the shape and measure a re-plan, not steady state. The two
    // sessions take turns in blocks of a few batches, in the order ABBA ABBA …, so that both see the same machine:
    // a load change between two separate measurements would otherwise pass for a difference between the sessions.
    // Before each block the process waits until its threads are idle: a session with ONNX Runtime's default
    // spin-then-block policy keeps its threads spinning for tens of milliseconds after its last run, and without the
    // wait that spinning would be charged to whichever session runs next (it cost a session that stops spinning at
    // once about 10 % of its measured rate).
    private static (double First, double Second) MeasureInferencePair(int count, int batchSize, Action first, Action second, CancellationToken cancellationToken)
    {
        const int block = 4;
        first(); // warm-up: the first run plans memory and (on CUDA) searches convolution algorithms
        second();
        var batches = Math.Max(block, (count + batchSize - 1) / batchSize);
        long firstTicks = 0, secondTicks = 0;
        var firstDone = 0;
        var secondDone = 0;
        for (var turn = 0; firstDone < batches || secondDone < batches; turn++)
        {
            var firstsTurn = turn % 4 is 0 or 3;
            var run = firstsTurn ? first : second;
            var n = Math.Min(block, batches - (firstsTurn ? firstDone : secondDone));
            WaitForIdleThreads(cancellationToken);
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < n; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                run();
            }

            var elapsed = Stopwatch.GetTimestamp() - started;
            if (firstsTurn)
            {
                firstTicks += elapsed;
                firstDone += n;
            }
            else
            {
                secondTicks += elapsed;
                secondDone += n;
            }
        }

        double Rate(long ticks) => batches * batchSize / ((double)ticks / Stopwatch.Frequency);
        return (Rate(firstTicks), Rate(secondTicks));
    }

    /// <summary>The same graph (float16 too when the tuned session is), the same input and the same execution provider,
    /// with ONNX Runtime's default session and provider options: what ONNX Runtime does untuned.</summary>
    private sealed class PlainSession : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtValue _input;
        private readonly OrtValue _output;
        private readonly RunOptions _runOptions = new();
        private readonly string[] _inputNames = [ModelSession.InputName];
        private readonly string[] _outputNames = [ModelSession.OutputName];

        public PlainSession(ModelSession tuned, InferenceBatch tensor)
        {
            using var options = tuned.ExecutionProvider == ExecutionProviderNames.Cuda
                ? SessionOptions.MakeSessionOptionWithCudaProvider(tuned.DeviceId)
                : new SessionOptions();
            _session = ModelSession.LoadGraph(tuned.ModelPath, tuned.Precision, options);
            var side = (long)Math.Sqrt(tensor.ImageLength / 3);
            _input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensor.Input.ToArray().AsMemory(), [tensor.Capacity, 3, side, side]);
            _output = OrtValue.CreateTensorValueFromMemory(
                OrtMemoryInfo.DefaultInstance, new float[tensor.Capacity * tensor.ClassCount].AsMemory(), [tensor.Capacity, tensor.ClassCount]);
        }

        public void Run() => _session.Run(_runOptions, _inputNames, [_input], _outputNames, [_output]);

        public void Dispose()
        {
            _input.Dispose();
            _output.Dispose();
            _runOptions.Dispose();
            _session.Dispose();
        }
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
            var rss = ProcessMemory.CurrentRss();
            lock (_samples)
            {
                _samples.Add((Volatile.Read(ref _images), rss));
            }
        }
    }
}
