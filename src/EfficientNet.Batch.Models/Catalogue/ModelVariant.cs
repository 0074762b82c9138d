using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>One model of the zoo: an architecture plus the training flavour of its weights, with the figures the
/// seed reports (shown to users as-is) and where its checkpoint can be downloaded. A custom model
/// (<see cref="IsCustom"/>, made by <see cref="CustomModel.Variant"/>) has no seed figures (NaN) and no URLs.</summary>
/// <param name="Id">Seed checkpoint file stem without date and hash, AdvProp spelt "advprop" (e.g. efficientnet_b3_advprop);
/// a custom model's name.</param>
/// <param name="Flavour">Display name: standard, AutoAugment, RandAugment, AdvProp+AA, EdgeTPU-S, EdgeTPU-M; custom.</param>
/// <param name="SeedParamsMillions">Params(M) as printed in the seed.</param>
/// <param name="CheckpointUrls">The seed's URL first, then the released mmcls file for the same arch and flavour if any.</param>
public sealed record ModelVariant(
    string Id,
    ArchSpec Architecture,
    string Flavour,
    Normalization Normalization,
    double SeedParamsMillions,
    double Top1,
    double Top5,
    IReadOnlyList<string> CheckpointUrls)
{
    public string Arch => Architecture.Name;

    public int Resolution => Architecture.Resolution;

    public float[] Mean => Normalization.Mean;

    public float[] Std => Normalization.Std;

    public string NormalizationName => Normalization.Name;

    /// <summary>A fine-tuned model of the user's own (<see cref="CustomModel"/>), not a row of the catalogue.</summary>
    public bool IsCustom { get; init; }

    /// <summary>The normalisation the model is served with unless its stored weights say otherwise: the catalogue's
    /// for a zoo model, <see cref="CustomModel.DefaultNormalization"/> for a custom one.</summary>
    public Normalization DefaultNormalization =>
        IsCustom ? CustomModel.DefaultNormalization(Architecture) : ModelCatalogue.Get(Id).Normalization;

    public override string ToString() => $"{Id} ({Arch}, {Flavour}, {Resolution}px)";
}
