using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>An image to classify: where it is, and how to open its encoded bytes (the pipeline reads the stream into a
/// pooled buffer and disposes it).</summary>
public sealed record ImageInput(string Path, int? Label, Func<CancellationToken, Task<Stream>> OpenAsync)
{
    /// <summary>Give the image's record a fingerprint: <see cref="Listed"/> completed with the SHA-256 of the bytes
    /// read for decoding (no second read) when the listing has no Content-MD5.</summary>
    public bool Fingerprinted { get; init; }

    /// <summary>What the dataset listing knew of the image (null when it was listed from a manifest).</summary>
    public ImageFingerprint? Listed { get; init; }

    /// <summary>A local file, opened for asynchronous sequential reading.</summary>
    public static ImageInput FromFile(string path, int? label = null, string? name = null) =>
        new(name ?? path, label, _ => Task.FromResult<Stream>(new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan)));

    /// <summary>Bytes already in memory (benchmarks, tests): read without a copy of the array.</summary>
    public static ImageInput FromBytes(string path, byte[] bytes, int? label = null) =>
        new(path, label, _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)));
}

/// <summary>The records of a classification run, in input order, and what produced them.</summary>
public sealed record ClassificationRun(
    IReadOnlyList<PredictionRecord> Records, ResolvedModel Model, string ExecutionProvider, InferencePrecision Precision)
{
    public int Ok => Records.Count(r => !r.IsError);

    public int Failed => Records.Count(r => r.IsError);
}

/// <summary>
/// Classifies images in fixed-size batches on one cached ONNX Runtime session, as a pipeline of overlapping stages:
/// <list type="number">
/// <item>reads: started in input order, up to <see cref="WorkerOptions.EffectiveReadAhead"/> ahead (async I/O), each
/// into a pooled buffer (<see cref="EncodedImage"/>) returned once the image is decoded;</item>
/// <item>decode + preprocess: <see cref="WorkerOptions.EffectiveDecodeParallelism"/> threads, each writing its image
/// straight into the image's slot of a batch tensor (no per-image tensor, no copy);</item>
/// <item>inference: one thread runs each batch as soon as its last slot is written, then recycles the tensor.</item>
/// </list>
/// Only <see cref="WorkerOptions.BatchesInFlight"/> batch tensors exist per run: when all are full or being filled,
/// reading stops (backpressure), so memory is bounded whatever the input size. Every batch runs at the fixed batch
/// size (the last one padded) so ONNX Runtime never re-plans. A bad image becomes an error record and leaves its slot
/// as padding; a storage outage fails the run.
/// </summary>
public sealed class ImageBatchClassifier(
    ModelStore models,
    ModelSessionCache sessions,
    PreprocessorCache preprocessors,
    IOptions<WorkerOptions> options,
    IOptions<InferenceOptions> inference,
    DeviceTurns device)
{
    public async Task<ClassificationRun> ClassifyAsync(
        ModelRef model,
        IReadOnlyList<ImageInput> inputs,
        int topK,
        Action<int>? onImagesDone,
        CancellationToken cancellationToken,
        bool thumbnails = false)
    {
        var resolved = await models.ResolveAsync(model.ModelId, model.RandomWeights ? model.Seed : null, cancellationToken);
        // Held for the run: an evicted session is not disposed while a shard still uses it. The weights' hash is in
        // the key, so new weights imported or published under the same model id get a session of their own.
        using var lease = sessions.Acquire(resolved.OnnxPath, resolved.OnnxSha256);
        var session = lease.Session;
        var variant = resolved.Variant;
        var preprocessor = preprocessors.Get(new PreprocessSpec(variant.Resolution, variant.Mean, variant.Std));
        var records = new PredictionRecord[inputs.Count];
        if (inputs.Count == 0)
        {
            return new ClassificationRun(records, resolved, session.ExecutionProvider, session.Precision);
        }

        // One shape per run: the configured batch size, or fewer for a run smaller than one batch.
        var capacity = Math.Max(1, Math.Min(inference.Value.BatchSize, inputs.Count));
        var pauseDecoding = PausesDecoding(session.ExecutionProvider, inference.Value.IntraOpSpinning);
        var pipeline = new Pipeline(
            session, device, preprocessor, options.Value, inputs, records, capacity, Math.Min(topK, session.ClassCount), resolved.ClassNames, pauseDecoding, onImagesDone, thumbnails);
        await pipeline.RunAsync(cancellationToken);
        return new ClassificationRun(records, resolved, session.ExecutionProvider, session.Precision);
    }

    /// <summary>
    /// Whether the decoders pause while a batch runs: when ONNX Runtime runs it on the CPU with spinning threads. Those
    /// threads busy-wait through every serial operator and would fight the decoders for the cores; paused decoders
    /// leave inference the cores for the ~30 ms of a batch and get them back, all of them, the moment it returns
    /// (docs/benchmarks.md: with spinning during batches only, the fastest whole jobs measured). With spinning off, or
    /// on a GPU (where the CPU only waits during a run), decoding overlaps inference.
    /// </summary>
    public static bool PausesDecoding(string executionProvider, IntraOpSpinning spinning) =>
        executionProvider == ExecutionProviderNames.Cpu && spinning != IntraOpSpinning.Off;

    /// <summary>The state of one run's pipeline: its stages, queues and batch tensors.</summary>
    private sealed class Pipeline(
        ModelSession session,
        DeviceTurns device,
        ImagePreprocessor preprocessor,
        WorkerOptions options,
        IReadOnlyList<ImageInput> inputs,
        PredictionRecord[] records,
        int capacity,
        int topK,
        IReadOnlyList<string> classNames,
        bool pauseDecoding,
        Action<int>? onImagesDone,
        bool thumbnails)
    {
        private readonly List<InferenceBatch> _rented = [];
        // Written by the decoder of an image before its slot is done, read after the batch ran (ordered by the queues).
        private readonly ImageFingerprint?[] _fingerprints = new ImageFingerprint?[inputs.Count];
        // The report's thumbnails (base64 JPEG), made by the decoder from the image's slot; null when not requested.
        private readonly string?[]? _thumbnails = thumbnails ? new string?[inputs.Count] : null;
        private Exception? _failure;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var batchCount = (inputs.Count + capacity - 1) / capacity;
            var depth = Math.Min(options.BatchesInFlight, batchCount);
            using var free = new BlockingCollection<PendingBatch>(depth);
            using var work = new BlockingCollection<WorkItem>(options.EffectiveReadAhead);
            using var ready = new BlockingCollection<PendingBatch>(depth);
            for (var i = 0; i < depth; i++)
            {
                var tensor = session.RentBatch(capacity);
                _rented.Add(tensor);
                free.Add(new PendingBatch(tensor), CancellationToken.None);
            }

            try
            {
                // CPU-bound stages get their own threads: blocking the thread pool with decode and ORT calls would
                // starve the continuations of the async reads.
                var stages = new List<Task> { Stage(() => Schedule(free, work, stop.Token), stop) };
                var decoders = new Task[Math.Max(1, options.EffectiveDecodeParallelism)];
                var remainingDecoders = decoders.Length;
                for (var i = 0; i < decoders.Length; i++)
                {
                    decoders[i] = Stage(
                        () =>
                        {
                            try
                            {
                                Decode(work, ready, stop.Token);
                            }
                            finally
                            {
                                if (Interlocked.Decrement(ref remainingDecoders) == 0)
                                {
                                    ready.CompleteAdding();
                                }
                            }
                        },
                        stop);
                }

                stages.AddRange(decoders);
                stages.Add(Stage(() => Infer(ready, free, stop.Token), stop));
                try
                {
                    await Task.WhenAll(stages);
                }
                catch when (_failure is not null || cancellationToken.IsCancellationRequested)
                {
                    // The first real failure (or the caller's cancellation) is rethrown below, not the secondary
                    // cancellations it caused in the other stages.
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (_failure is not null)
                {
                    ExceptionDispatchInfo.Throw(_failure);
                }
            }
            finally
            {
                foreach (var tensor in _rented)
                {
                    session.ReturnBatch(tensor);
                }
            }
        }

        private Task Stage(Action body, CancellationTokenSource stop) =>
            Task.Factory.StartNew(
                () =>
                {
                    try
                    {
                        body();
                    }
                    // A cancellation this pipeline caused is secondary; any other exception (a read's own timeout
                    // included) is the failure, and stops every stage so that none waits on a dead one.
                    catch (Exception exception) when (!(exception is OperationCanceledException && stop.IsCancellationRequested))
                    {
                        Interlocked.CompareExchange(ref _failure, exception, null);
                        stop.Cancel();
                        throw;
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);

        // Hands out (image, batch tensor, slot) in input order and starts each image's read. It takes a free tensor
        // before scheduling that batch's images, so the decoders never wait for memory and the batches fill in order.
        private void Schedule(BlockingCollection<PendingBatch> free, BlockingCollection<WorkItem> work, CancellationToken cancellationToken)
        {
            try
            {
                for (var first = 0; first < inputs.Count; first += capacity)
                {
                    var batch = free.Take(cancellationToken);
                    var count = Math.Min(capacity, inputs.Count - first);
                    batch.Start(first, count);
                    for (var slot = 0; slot < count; slot++)
                    {
                        var index = first + slot;
                        work.Add(new WorkItem(index, slot, batch, ReadAsync(inputs[index], options.MaxImageBytes, cancellationToken)), cancellationToken);
                    }
                }
            }
            finally
            {
                work.CompleteAdding();
            }
        }

        // A synchronous throw from OpenAsync is handled like a failed read, by the decoder that owns the image.
        private static async Task<EncodedImage> ReadAsync(ImageInput input, long maxBytes, CancellationToken cancellationToken)
        {
            await using var stream = await input.OpenAsync(cancellationToken);
            return await EncodedImage.ReadAsync(stream, maxBytes, cancellationToken);
        }

        private void Decode(BlockingCollection<WorkItem> work, BlockingCollection<PendingBatch> ready, CancellationToken cancellationToken)
        {
            foreach (var item in work.GetConsumingEnumerable(cancellationToken))
            {
                if (pauseDecoding)
                {
                    device.WaitToDecode(cancellationToken);
                }

                var input = inputs[item.Index];
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var encoded = item.Read.GetAwaiter().GetResult();
                    if (input.Fingerprinted)
                    {
                        _fingerprints[item.Index] = Fingerprints.Complete(input.Listed, encoded.Bytes.Span);
                    }

                    preprocessor.Preprocess(encoded.Bytes, item.Batch.Tensor.Image(item.Slot), input.Path);
                    BatchMetrics.DecodeDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (_thumbnails is not null)
                    {
                        // From what was just written to the slot: the image is not decoded twice.
                        var spec = preprocessor.Spec;
                        _thumbnails[item.Index] = Thumbnails.FromTensor(item.Batch.Tensor.Image(item.Slot), spec.Resolution, spec.MeanRgb, spec.StdRgb);
                    }
                }
                catch (Exception e) when (ErrorRecord(input, e) is { } failure)
                {
                    records[item.Index] = input.Fingerprinted ? failure with { Fingerprint = _fingerprints[item.Index] ?? input.Listed } : failure;
                    item.Batch.Skip(item.Slot);
                    BatchMetrics.ImageErrors.Add(1, new KeyValuePair<string, object?>("error.type", failure.ErrorKind));
                    BatchMetrics.ImagesProcessed.Add(1, new KeyValuePair<string, object?>("effnet.outcome", "error"));
                    onImagesDone?.Invoke(1);
                }

                if (item.Batch.SlotDone())
                {
                    ready.Add(item.Batch, cancellationToken);
                }
            }
        }

        private void Infer(BlockingCollection<PendingBatch> ready, BlockingCollection<PendingBatch> free, CancellationToken cancellationToken)
        {
            var names = classNames;
            var top = new ClassScore[topK];
            foreach (var batch in ready.GetConsumingEnumerable(cancellationToken))
            {
                var images = batch.Images;
                if (images > 0)
                {
                    using (var activity = BatchMetrics.ActivitySource.StartActivity(JobTracing.Spans.Inference))
                    {
                        activity?.SetTag(JobTracing.Tags.BatchSize, images);
                        // Timed once the device is this batch's: a wait for another shard's batch is not inference.
                        device.Run(
                            () =>
                            {
                                var started = Stopwatch.GetTimestamp();
                                session.Run(batch.Tensor);
                                BatchMetrics.InferenceDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                            },
                            pauseDecoding,
                            cancellationToken);
                        BatchMetrics.BatchSize.Record(images);
                    }

                    for (var slot = 0; slot < batch.Count; slot++)
                    {
                        if (batch.IsSkipped(slot))
                        {
                            continue;
                        }

                        var index = batch.First + slot;
                        TopK.Select(batch.Tensor.Probabilities(slot), top.Length, top);
                        var classes = new PredictedClass[top.Length];
                        for (var k = 0; k < top.Length; k++)
                        {
                            classes[k] = new PredictedClass(top[k].Index, names[top[k].Index], top[k].Probability);
                        }

                        var input = inputs[index];
                        records[index] = new PredictionRecord
                        {
                            Path = input.Path, Label = input.Label, Top = classes, Fingerprint = _fingerprints[index], Thumbnail = _thumbnails?[index],
                        };
                    }

                    BatchMetrics.ImagesProcessed.Add(images, new KeyValuePair<string, object?>("effnet.outcome", "ok"));
                    onImagesDone?.Invoke(images);
                }

                free.Add(batch, cancellationToken);
            }
        }
    }

    /// <summary>A batch tensor being filled: which images it holds and how many slots are still being decoded.</summary>
    private sealed class PendingBatch(InferenceBatch tensor)
    {
        private readonly bool[] _skipped = new bool[tensor.Capacity];
        private int _pending;
        private int _skippedCount;

        public InferenceBatch Tensor { get; } = tensor;

        public int First { get; private set; }

        /// <summary>Slots in use; slots past it are padding (the last batch of a run).</summary>
        public int Count { get; private set; }

        /// <summary>Slots holding a decoded image.</summary>
        public int Images => Count - Volatile.Read(ref _skippedCount);

        public void Start(int first, int count)
        {
            First = first;
            Count = count;
            Array.Clear(_skipped);
            _skippedCount = 0;
            Volatile.Write(ref _pending, count);
        }

        /// <summary>The image of <paramref name="slot"/> failed: its slot is padding.</summary>
        public void Skip(int slot)
        {
            _skipped[slot] = true;
            Interlocked.Increment(ref _skippedCount);
        }

        public bool IsSkipped(int slot) => _skipped[slot];

        /// <summary>True for the decoder that finishes the batch's last slot.</summary>
        public bool SlotDone() => Interlocked.Decrement(ref _pending) == 0;
    }

    private readonly record struct WorkItem(int Index, int Slot, PendingBatch Batch, Task<EncodedImage> Read);

    /// <summary>Per-image failures become records; anything else (storage outage, cancellation) fails the shard so that
    /// the bus retries it.</summary>
    private static PredictionRecord? ErrorRecord(ImageInput input, Exception exception) => exception switch
    {
        ImageDecodeException decode => PredictionRecord.Failure(input.Path, input.Label, decode.Kind, decode.Message),
        BlobNotFoundException => PredictionRecord.Failure(input.Path, input.Label, "not-found", $"'{input.Path}' does not exist."),
        FileNotFoundException or DirectoryNotFoundException => PredictionRecord.Failure(input.Path, input.Label, "not-found", $"'{input.Path}' does not exist."),
        _ => null,
    };

}
