using System.Collections.Concurrent;
using EfficientNet.Batch.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>One reusable preprocessor (with its resize tables) per resolution and normalisation, each refusing images
/// whose header declares more than <see cref="MaxPixels"/> pixels (<c>Inference:MaxImagePixels</c>) and decoding
/// JPEGs with the chosen decoder (<c>Inference:JpegDecoder</c>).</summary>
public sealed partial class PreprocessorCache
{
    private readonly ConcurrentDictionary<string, ImagePreprocessor> _byKey = new(StringComparer.Ordinal);
    private readonly JpegDecoderKind _jpegDecoder;

    public PreprocessorCache(long maxPixels = ImagePreprocessor.DefaultMaxPixels, JpegDecoderKind jpegDecoder = JpegDecoderKind.Auto, ILogger<PreprocessorCache>? logger = null)
    {
        MaxPixels = maxPixels;
        _jpegDecoder = jpegDecoder;
        // Once per host (the cache is a singleton): Auto without the library still works, at ImageSharp's speed and pixels.
        if (jpegDecoder == JpegDecoderKind.Auto && !TurboJpegLibrary.IsAvailable)
        {
            LogImageSharpFallback(logger ?? NullLogger<PreprocessorCache>.Instance, TurboJpegLibrary.LoadError);
        }
    }

    public long MaxPixels { get; }

    public ImagePreprocessor Get(PreprocessSpec spec) =>
        _byKey.GetOrAdd($"{spec.Resolution}|{string.Join(',', spec.MeanRgb)}|{string.Join(',', spec.StdRgb)}", _ => new ImagePreprocessor(spec, MaxPixels, _jpegDecoder));

    [LoggerMessage(Level = LogLevel.Warning, Message = "JPEGs are decoded by ImageSharp, about half as fast as libjpeg-turbo and a few levels off OpenCV's pixels: {Reason}")]
    private static partial void LogImageSharpFallback(ILogger logger, string? reason);
}
