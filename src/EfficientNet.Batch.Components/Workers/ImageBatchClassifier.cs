using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>An image to classify: where it is, and how to read its encoded bytes.</summary>
public sealed record ImageInput(string Path, int? Label, Func<CancellationToken, Task<byte[]>> ReadAsync);

/// <summary>The records of a classification run, in input order, and what produced them.</summary>
public sealed record ClassificationRun(IReadOnlyList<PredictionRecord> Records, ResolvedModel Model, string ExecutionProvider)
{
    public int Ok => Records.Count(r => !r.IsError);

    public int Failed => Records.Count(r => r.IsError);
}

/// <summary>
/// Decodes and preprocesses images in parallel and classifies them in batches on one cached ONNX Runtime session.
/// A decode stage and the inference stage overlap through a bounded channel, so memory stays bounded and the
/// session is fed while the next images decode. A bad image becomes an error record; it never fails the run.
/// </summary>
public sealed class ImageBatchClassifier(
    ModelStore models,
    ModelSessionCache sessions,
    PreprocessorCache preprocessors,
    IOptions<WorkerOptions> options,
    IOptions<InferenceOptions> inference)
{
    public async Task<ClassificationRun> ClassifyAsync(
        ModelRef model,
        IReadOnlyList<ImageInput> inputs,
        int topK,
        Action<int>? onImagesDone,
        CancellationToken cancellationToken)
    {
        var resolved = await models.ResolveAsync(model.ModelId, model.RandomWeights ? model.Seed : null, cancellationToken);
        var session = sessions.Get(resolved.OnnxPath);
        var variant = resolved.Variant;
        var preprocessor = preprocessors.Get(new PreprocessSpec(variant.Resolution, variant.Mean, variant.Std));
        var planeSize = 3 * variant.Resolution * variant.Resolution;
        var batchSize = Math.Max(1, Math.Min(inference.Value.BatchSize, inputs.Count));
        var records = new PredictionRecord[inputs.Count];
        var names = ImageNetClasses.Names;

        var decoded = Channel.CreateBounded<DecodedImage>(new BoundedChannelOptions(batchSize * 2)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        var decoding = Task.Run(
            async () =>
            {
                try
                {
                    await Parallel.ForEachAsync(
                        Enumerable.Range(0, inputs.Count),
                        new ParallelOptions { MaxDegreeOfParallelism = options.Value.EffectiveDecodeParallelism, CancellationToken = cancellationToken },
                        async (index, ct) =>
                        {
                            var input = inputs[index];
                            var pixels = ArrayPool<float>.Shared.Rent(planeSize);
                            var started = Stopwatch.GetTimestamp();
                            try
                            {
                                var bytes = await input.ReadAsync(ct);
                                if (bytes.LongLength > options.Value.MaxImageBytes)
                                {
                                    throw new ImageDecodeException("too-large", $"The file is {bytes.LongLength} bytes; the limit is {options.Value.MaxImageBytes}.");
                                }

                                preprocessor.Preprocess(bytes, pixels.AsSpan(0, planeSize));
                                BatchMetrics.DecodeDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                                await decoded.Writer.WriteAsync(new DecodedImage(index, pixels), ct);
                            }
                            catch (Exception e) when (ErrorRecord(input, e) is { } failure)
                            {
                                ArrayPool<float>.Shared.Return(pixels);
                                records[index] = failure;
                                BatchMetrics.ImageErrors.Add(1, new KeyValuePair<string, object?>("error.type", failure.ErrorKind));
                                BatchMetrics.ImagesProcessed.Add(1, new KeyValuePair<string, object?>("effnet.outcome", "error"));
                                onImagesDone?.Invoke(1);
                            }
                            catch
                            {
                                ArrayPool<float>.Shared.Return(pixels);
                                throw;
                            }
                        });
                }
                finally
                {
                    decoded.Writer.Complete();
                }
            },
            cancellationToken);

        var batch = ArrayPool<float>.Shared.Rent(batchSize * planeSize);
        var probabilities = ArrayPool<float>.Shared.Rent(batchSize * session.ClassCount);
        var indices = new int[batchSize];
        var top = new ClassScore[Math.Min(topK, session.ClassCount)];
        try
        {
            var filled = 0;
            await foreach (var image in decoded.Reader.ReadAllAsync(cancellationToken))
            {
                image.Pixels.AsSpan(0, planeSize).CopyTo(batch.AsSpan(filled * planeSize, planeSize));
                ArrayPool<float>.Shared.Return(image.Pixels);
                indices[filled++] = image.Index;
                if (filled == batchSize)
                {
                    RunBatch(filled);
                    filled = 0;
                }
            }

            if (filled > 0)
            {
                RunBatch(filled);
            }

            await decoding;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(batch);
            ArrayPool<float>.Shared.Return(probabilities);
        }

        return new ClassificationRun(records, resolved, session.ExecutionProvider);

        void RunBatch(int count)
        {
            using var activity = BatchMetrics.ActivitySource.StartActivity("effnet.inference");
            activity?.SetTag("effnet.batch.size", count);
            var started = Stopwatch.GetTimestamp();
            session.Run(batch.AsSpan(0, count * planeSize), count, probabilities.AsSpan(0, count * session.ClassCount));
            BatchMetrics.InferenceDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            BatchMetrics.BatchSize.Record(count);
            for (var i = 0; i < count; i++)
            {
                TopK.Select(probabilities.AsSpan(i * session.ClassCount, session.ClassCount), top.Length, top);
                var input = inputs[indices[i]];
                records[indices[i]] = new PredictionRecord
                {
                    Path = input.Path,
                    Label = input.Label,
                    Top = top.Select(c => new PredictedClass(c.Index, names[c.Index], c.Probability)).ToArray(),
                };
            }

            BatchMetrics.ImagesProcessed.Add(count, new KeyValuePair<string, object?>("effnet.outcome", "ok"));
            onImagesDone?.Invoke(count);
        }
    }

    /// <summary>Per-image failures become records; anything else (storage outage, cancellation) fails the shard so that
    /// the bus retries it.</summary>
    private static PredictionRecord? ErrorRecord(ImageInput input, Exception exception) => exception switch
    {
        ImageDecodeException decode => PredictionRecord.Failure(input.Path, input.Label, decode.Kind, decode.Message),
        BlobNotFoundException => PredictionRecord.Failure(input.Path, input.Label, "not-found", $"'{input.Path}' does not exist."),
        FileNotFoundException or DirectoryNotFoundException => PredictionRecord.Failure(input.Path, input.Label, "not-found", $"'{input.Path}' does not exist."),
        _ => null,
    };

    private readonly record struct DecodedImage(int Index, float[] Pixels);
}
