using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>The 26 models of the seed (spec §6), in seed order. Hard-coded because it is product data: the seed's
/// Params/Top-1/Top-5 are shown to users verbatim and the download URLs come with it.</summary>
public static class ModelCatalogue
{
    private const string Standard = "standard";
    private const string AutoAugment = "AutoAugment";
    private const string RandAugment = "RandAugment";
    private const string AdvProp = "AdvProp+AA";

    // Released-file tags per flavour (spec §5).
    private const string StandardTag = "";
    private const string AutoAugmentTag = "-aa";
    private const string AdvPropTag = "-aa-advprop";

    /// <summary>All models in seed order.</summary>
    public static IReadOnlyList<ModelVariant> All { get; } =
    [
        Row("b0", Standard, "b0", "fbd07c93", 5.29, 76.74, 93.18, StandardTag, "a7e2a0b1"),
        Row("b0", AutoAugment, "b0_autoaugment", "bc21d1cb", 5.29, 77.27, 93.4, AutoAugmentTag, "8d939117"),
        Row("b0", AdvProp, "b0_advprob", "71f75f44", 5.29, 77.52, 93.62, AdvPropTag, "26434485"),
        Row("b1", Standard, "b1", "c43b8538", 7.79, 78.69, 94.29, StandardTag, "002556d9"),
        Row("b1", AutoAugment, "b1_autoaugment", "6057bf77", 7.79, 79.19, 94.42, AutoAugmentTag, "619d8ae3"),
        Row("b1", AdvProp, "b1_advprob", "7b910c4e", 7.79, 79.51, 94.42, AdvPropTag, "5715267d"),
        Row("b2", Standard, "b2", "28d2d19a", 9.11, 79.63, 94.79, StandardTag, "ea374a30"),
        Row("b2", AutoAugment, "b2_autoaugment", "755b5570", 9.11, 80.21, 94.96, AutoAugmentTag, "dd61e80b"),
        Row("b2", AdvProp, "b2_advprob", "92aae5db", 9.11, 80.45, 95.07, AdvPropTag, "1655338a"),
        Row("b3", Standard, "b3", "6b3b50db", 12.23, 81.02, 95.34, StandardTag, "4b4d7487"),
        Row("b3", AutoAugment, "b3_autoaugment", "98895895", 12.23, 81.57, 95.67, AutoAugmentTag, "5b4887a0"),
        Row("b3", AdvProp, "b3_advprob", "2e57aa32", 12.23, 81.82, 95.69, AdvPropTag, "53b41118"),
        Row("b4", Standard, "b4", "6e724d3d", 19.34, 82.57, 96.09, StandardTag, "81fd4077"),
        Row("b4", AutoAugment, "b4_autoaugment", "cb07b99a", 19.34, 82.95, 96.26, AutoAugmentTag, "45b8bd2b"),
        Row("b4", AdvProp, "b4_advprob", "d2a17db9", 19.34, 83.25, 96.45, AdvPropTag, "38c2238c"),
        Row("b5", Standard, "b5", "bfd0f1db", 30.39, 83.18, 96.47, StandardTag, "e9814430"),
        // No released RandAugment file; the released -aa one reports the same top-1 but is a different flavour.
        Row("b5", RandAugment, "b5_randaugment", "ea4db767", 30.39, 83.82, 96.77),
        Row("b5", AdvProp, "b5_advprob", "27015836", 30.39, 84.21, 96.98, AdvPropTag, "f57a895a"),
        Row("b6", AutoAugment, "b6_autoaugment", "e751721d", 43.04, 84.06, 96.82, AutoAugmentTag, "45b03310"),
        Row("b6", AdvProp, "b6_advprob", "38908102", 43.04, 84.73, 97.14, AdvPropTag, "bfe3485e"),
        Row("b7", AutoAugment, "b7_autoaugment", "848069e8", 66.35, 84.39, 96.88, AutoAugmentTag, "bf03951c"),
        Row("b7", RandAugment, "b7_randaugment", "584f1258", 66.35, 84.92, 97.21),
        Row("b7", AdvProp, "b7_advprob", "2269887d", 66.35, 85.14, 97.23, AdvPropTag, "c6dbff10"),
        Row("b8", AdvProp, "b8_advprob", "7673a8bf", 87.41, 85.39, 97.28, AdvPropTag, "297ce1b7"),
        // EdgeTPU: no released checkpoint. Default to the released configs' 127.5/127.5 (spec §6 note).
        Row("es", "EdgeTPU-S", "es", "81a6b8fc", 5.44, 77.63, 93.80),
        Row("em", "EdgeTPU-M", "em", "d9c295bc", 6.9, 78.87, 94.49),
    ];

    private static readonly FrozenDictionary<string, ModelVariant> ById =
        All.ToFrozenDictionary(v => v.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>Finds a model by id, case-insensitively, accepting the seed's "advprob" spelling.</summary>
    public static bool TryGet(string modelId, [NotNullWhen(true)] out ModelVariant? variant) =>
        ById.TryGetValue(Canonicalize(modelId), out variant);

    /// <exception cref="UnknownModelException">The id is not in the catalogue.</exception>
    public static ModelVariant Get(string modelId) =>
        TryGet(modelId, out var variant) ? variant : throw new UnknownModelException(modelId, All.Select(v => v.Id));

    /// <summary>The id a model is stored and sent under: the zoo's own id for a zoo model (any case, either AdvProp
    /// spelling), else the custom model name in lower case (<see cref="CustomModelName.Canonicalize"/>). It does not
    /// check that a custom model exists.</summary>
    public static string CanonicalId(string modelId) =>
        TryGet(modelId, out var variant) ? variant.Id : CustomModelName.Canonicalize(modelId);

    private static string Canonicalize(string modelId) =>
        modelId.Trim().Replace("advprob", "advprop", StringComparison.OrdinalIgnoreCase);

    private static ModelVariant Row(
        string arch,
        string flavour,
        string seedStem,
        string seedHash,
        double paramsMillions,
        double top1,
        double top5,
        string? releasedTag = null,
        string? releasedHash = null)
    {
        var urls = new List<string> { CheckpointUrl.Seed($"efficientnet_{seedStem}", seedHash) };
        if (releasedTag is not null && releasedHash is not null)
        {
            urls.Add(CheckpointUrl.Released(arch, releasedTag, releasedHash));
        }

        var normalization = flavour is Standard or AutoAugment or RandAugment ? Normalization.ImageNet : Normalization.ZeroOne;
        return new ModelVariant(
            Canonicalize($"efficientnet_{seedStem}"), ArchSpec.Get(arch), flavour, normalization, paramsMillions, top1, top5, urls);
    }
}
