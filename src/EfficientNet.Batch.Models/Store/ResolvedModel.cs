using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>A model ready to load: the ONNX file on disk and what its weights are.</summary>
/// <param name="Variant">The catalogue variant, carrying the normalisation these weights are served with (an import
/// may override the catalogue's; see <see cref="NormalizationOverridden"/>).</param>
/// <param name="WeightsDescription">Shown in results metadata, e.g. "imported from x.pth (sha256 …)" or "random weights, seed 7";
/// ends with ", normalisation imagenet (override)" when the normalisation differs from the catalogue's.</param>
/// <param name="Untrained">True for generated random weights: predictions are meaningless.</param>
public sealed record ResolvedModel(ModelVariant Variant, string OnnxPath, string WeightsDescription, bool Untrained, string OnnxSha256)
{
    /// <summary>The weights are served with a normalisation other than the catalogue's for this variant.</summary>
    public bool NormalizationOverridden => !Variant.Normalization.Equals(ModelCatalogue.Get(Variant.Id).Normalization);
}
