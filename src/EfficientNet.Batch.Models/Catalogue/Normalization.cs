using System.Globalization;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>Per-channel (RGB) normalisation applied after scaling pixels to float: (x − mean) / std (spec §3).
/// Equality compares the values, so an override read back from a manifest equals the instance it was made from.</summary>
public sealed record Normalization(string Name, float[] Mean, float[] Std)
{
    /// <summary>Name of a normalisation given by mean/std values that match neither known one.</summary>
    public const string CustomName = "custom";

    /// <summary>ImageNet mean/std on 0..255 pixels: standard, AutoAugment and RandAugment configs.</summary>
    public static Normalization ImageNet { get; } = new("imagenet", [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    /// <summary>127.5/127.5, mapping pixels to [−1, 1]: AdvProp and the released EdgeTPU configs ("01norm").</summary>
    public static Normalization ZeroOne { get; } = new("01", [127.5f, 127.5f, 127.5f], [127.5f, 127.5f, 127.5f]);

    /// <summary>The normalisations that can be named (<c>--normalization</c>, ONNX metadata <c>normalization</c>).</summary>
    public static IReadOnlyList<Normalization> Named { get; } = [ImageNet, ZeroOne];

    /// <summary>The named normalisation, case-insensitively.</summary>
    /// <exception cref="ArgumentException">The name is neither <c>imagenet</c> nor <c>01</c>.</exception>
    public static Normalization Parse(string name) =>
        TryParse(name) ?? throw new ArgumentException(
            $"unknown normalisation '{name}'; expected one of {string.Join(", ", Named.Select(n => n.Name))}.");

    public static Normalization? TryParse(string? name) =>
        Named.FirstOrDefault(n => string.Equals(n.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The named normalisation with these values, else a <see cref="CustomName"/> one.</summary>
    /// <exception cref="ArgumentException">Not three finite values each, or a std that is not positive.</exception>
    public static Normalization FromValues(float[] mean, float[] std)
    {
        if (mean.Length != 3 || std.Length != 3 || !mean.All(float.IsFinite) || !std.All(v => float.IsFinite(v) && v > 0))
        {
            throw new ArgumentException($"normalisation needs 3 finite means and 3 positive stds (RGB), got mean [{Format(mean)}], std [{Format(std)}].");
        }

        var candidate = new Normalization(CustomName, [.. mean], [.. std]);
        return Named.FirstOrDefault(n => n.SameValues(candidate)) ?? candidate;
    }

    public bool Equals(Normalization? other) =>
        other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal) && SameValues(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name, StringComparer.Ordinal);
        foreach (var value in Mean.Concat(Std))
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }

    /// <summary>The name; for a custom one also the values, e.g. "custom (mean 0,0,0; std 1,1,1)".</summary>
    public override string ToString() => Name == CustomName ? $"{Name} (mean {Format(Mean)}; std {Format(Std)})" : Name;

    private bool SameValues(Normalization other) => Mean.AsSpan().SequenceEqual(other.Mean) && Std.AsSpan().SequenceEqual(other.Std);

    internal static string Format(float[] values) =>
        string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
