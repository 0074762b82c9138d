using System.Globalization;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>The ONNX <c>metadata_props</c> that name the input normalisation a model expects: <c>normalization</c>
/// (<c>imagenet</c> or <c>01</c>) and <c>mean</c>/<c>std</c> (three comma-separated values on 0..255 pixels).
/// Models we build carry all three; an imported file may carry either form.</summary>
public static class NormalizationMetadata
{
    public const string NameKey = "normalization";
    public const string MeanKey = "mean";
    public const string StdKey = "std";

    public static IEnumerable<KeyValuePair<string, string>> Entries(Normalization normalization)
    {
        yield return new(MeanKey, Normalization.Format(normalization.Mean));
        yield return new(StdKey, Normalization.Format(normalization.Std));
        yield return new(NameKey, normalization.Name);
    }

    /// <summary>The normalisation the metadata names, or null when it has none of the keys. A known
    /// <c>normalization</c> name wins over <c>mean</c>/<c>std</c>.</summary>
    /// <exception cref="FormatException">The keys are present but do not describe a usable normalisation.</exception>
    public static Normalization? Read(IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var props = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in metadata)
        {
            props[key] = value;
        }

        props.TryGetValue(NameKey, out var name);
        if (Normalization.TryParse(name) is { } named)
        {
            return named;
        }

        var hasMean = props.TryGetValue(MeanKey, out var mean);
        var hasStd = props.TryGetValue(StdKey, out var std);
        if (!hasMean && !hasStd)
        {
            return name is null ? null
                : throw new FormatException($"metadata {NameKey}='{name}' is neither imagenet nor 01, and there is no {MeanKey}/{StdKey}.");
        }

        if (!hasMean || !hasStd)
        {
            throw new FormatException($"metadata has '{(hasMean ? MeanKey : StdKey)}' without '{(hasMean ? StdKey : MeanKey)}'.");
        }

        var values = (Mean: ParseFloats(MeanKey, mean!), Std: ParseFloats(StdKey, std!));
        // Our pixels are 0..255; torchvision-style 0..1 values would silently give garbage.
        if (values.Mean.All(v => Math.Abs(v) <= 1f) && values.Std.All(v => v <= 1f))
        {
            throw new FormatException($"metadata mean [{mean}] / std [{std}] look like 0..1 values; pixels here are 0..255 (e.g. 123.675,116.28,103.53).");
        }

        try
        {
            return Normalization.FromValues(values.Mean, values.Std);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"metadata {e.Message}", e);
        }
    }

    private static float[] ParseFloats(string key, string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new FormatException($"metadata {key}='{text}' is not a comma-separated list of numbers.");
            }
        }

        return values;
    }
}
