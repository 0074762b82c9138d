using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>A model ready to load: the ONNX file on disk, what its weights are and what its outputs are called.</summary>
/// <param name="Variant">The catalogue variant (or a custom model's, <see cref="ModelVariant.IsCustom"/>), carrying the
/// normalisation these weights are served with (an import may override the default; see <see cref="NormalizationOverridden"/>).</param>
/// <param name="WeightsDescription">Shown in results metadata, e.g. "imported from x.pth (sha256 …)" or "random weights, seed 7";
/// ends with ", normalisation imagenet (override)" when the normalisation differs from the catalogue's.</param>
/// <param name="Untrained">True for generated random weights: predictions are meaningless.</param>
/// <param name="ClassNames">The name of each output, by index: <see cref="ImageNetClasses.Names"/> for a zoo model, the
/// names imported with a custom model (its store's <see cref="Catalogue.ClassNames.FileName"/>).</param>
public sealed record ResolvedModel(
    ModelVariant Variant, string OnnxPath, string WeightsDescription, bool Untrained, string OnnxSha256, IReadOnlyList<string> ClassNames)
{
    /// <summary>The weights are served with a normalisation other than the default for this model (the catalogue's,
    /// or for a custom model its arch's, <see cref="CustomModel.DefaultNormalization"/>).</summary>
    public bool NormalizationOverridden => !Variant.Normalization.Equals(Variant.DefaultNormalization);

    /// <summary>Compares the class names by value: each resolve of a custom model reads them anew.</summary>
    public bool Equals(ResolvedModel? other) =>
        other is not null
        && Variant.Equals(other.Variant)
        && string.Equals(OnnxPath, other.OnnxPath, StringComparison.Ordinal)
        && string.Equals(WeightsDescription, other.WeightsDescription, StringComparison.Ordinal)
        && Untrained == other.Untrained
        && string.Equals(OnnxSha256, other.OnnxSha256, StringComparison.Ordinal)
        && ClassNames.SequenceEqual(other.ClassNames, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Variant, OnnxPath, OnnxSha256, ClassNames.Count);
}
