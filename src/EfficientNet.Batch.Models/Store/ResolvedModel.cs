using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>A model ready to load: the ONNX file on disk and what its weights are.</summary>
/// <param name="WeightsDescription">Shown in results metadata, e.g. "imported from x.pth (sha256 …)" or "random weights, seed 7".</param>
/// <param name="Untrained">True for generated random weights: predictions are meaningless.</param>
public sealed record ResolvedModel(ModelVariant Variant, string OnnxPath, string WeightsDescription, bool Untrained, string OnnxSha256);
