using System.Collections.Concurrent;
using EfficientNet.Batch.Inference;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>One reusable preprocessor (with its resize tables) per resolution and normalisation, each refusing images
/// whose header declares more than <paramref name="maxPixels"/> pixels (<c>Inference:MaxImagePixels</c>).</summary>
public sealed class PreprocessorCache(long maxPixels = ImagePreprocessor.DefaultMaxPixels)
{
    private readonly ConcurrentDictionary<string, ImagePreprocessor> _byKey = new(StringComparer.Ordinal);

    public long MaxPixels => maxPixels;

    public ImagePreprocessor Get(PreprocessSpec spec) =>
        _byKey.GetOrAdd($"{spec.Resolution}|{string.Join(',', spec.MeanRgb)}|{string.Join(',', spec.StdRgb)}", _ => new ImagePreprocessor(spec, maxPixels));
}
