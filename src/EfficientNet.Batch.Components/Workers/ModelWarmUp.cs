using System.Diagnostics;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>What a warm-up did: images decoded and run, and how long it took.</summary>
public sealed record WarmUpResult(int Images, int Batches, TimeSpan Elapsed);

/// <summary>
/// Pushes synthetic photos through a loaded model's hot path (JPEG decode, crop, resize and normalisation on every
/// decode thread, then full batches through the ONNX Runtime session) before the worker takes shards. A fresh
/// process otherwise runs its first shard on unoptimised (tier-0) JIT code and lets ONNX Runtime plan its memory and
/// grow its arenas on real work, so a worker that reports ready would not yet run at full speed.
/// </summary>
public sealed class ModelWarmUp(PreprocessorCache preprocessors, IOptions<WorkerOptions> options, IOptions<InferenceOptions> inference)
{
    private static readonly Lazy<byte[][]> Photos = new(CreatePhotos);

    /// <summary>Runs <see cref="WorkerOptions.WarmUpImages"/> images (rounded up to whole batches) on
    /// <paramref name="session"/>; nothing when that is 0.</summary>
    public WarmUpResult Run(ResolvedModel model, ModelSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(session);
        var images = options.Value.WarmUpImages;
        if (images == 0)
        {
            return new WarmUpResult(0, 0, TimeSpan.Zero);
        }

        var started = Stopwatch.GetTimestamp();
        var variant = model.Variant;
        var preprocessor = preprocessors.Get(new PreprocessSpec(variant.Resolution, variant.Mean, variant.Std));
        var capacity = inference.Value.BatchSize;
        var batches = (images + capacity - 1) / capacity;
        var photos = Photos.Value;
        var batch = session.RentBatch(capacity);
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.EffectiveDecodeParallelism, CancellationToken = cancellationToken };
            for (var b = 0; b < batches; b++)
            {
                Parallel.For(0, capacity, parallel, slot => preprocessor.Preprocess(photos[((b * capacity) + slot) % photos.Length], batch.Image(slot)));
                session.Run(batch);
            }
        }
        finally
        {
            session.ReturnBatch(batch);
        }

        return new WarmUpResult(batches * capacity, batches, Stopwatch.GetElapsedTime(started));
    }

    // Photo-like JPEGs (4:2:0, quality 90, 500 × 375 and 375 × 500 like the ImageNet validation set): smooth gradients
    // with noise, so that the entropy decoder and the IDCT do real work.
    private static byte[][] CreatePhotos()
    {
        var random = new Random(20261126);
        return [Encode(500, 375, random), Encode(375, 500, random), Encode(640, 480, random)];

        static byte[] Encode(int width, int height, Random random)
        {
            using var image = new Image<Rgb24>(width, height);
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < row.Length; x++)
                    {
                        row[x] = new Rgb24(
                            (byte)Math.Clamp((x * 255 / width) + random.Next(-24, 25), 0, 255),
                            (byte)Math.Clamp((y * 255 / height) + random.Next(-24, 25), 0, 255),
                            (byte)Math.Clamp(((x + y) * 127 / (width + height)) + 64 + random.Next(-24, 25), 0, 255));
                    }
                }
            });
            using var stream = new MemoryStream();
            image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
            return stream.ToArray();
        }
    }
}
