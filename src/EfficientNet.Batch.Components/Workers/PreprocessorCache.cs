using System.Collections.Concurrent;
using EfficientNet.Batch.Inference;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>One reusable preprocessor (with its resize tables) per resolution and normalisation.</summary>
public sealed class PreprocessorCache
{
    private readonly ConcurrentDictionary<string, ImagePreprocessor> _byKey = new(StringComparer.Ordinal);

    public ImagePreprocessor Get(PreprocessSpec spec) =>
        _byKey.GetOrAdd($"{spec.Resolution}|{string.Join(',', spec.MeanRgb)}|{string.Join(',', spec.StdRgb)}", _ => new ImagePreprocessor(spec));
}
