using System.Text.Json.Serialization;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>One row of <c>effnet models list</c>: the seed's figures next to the ones computed from the architecture
/// the ONNX builder uses, and whether weights are in the local store.</summary>
/// <param name="SeedParamsMillions">Params(M) as printed in the seed; null for a custom model.</param>
/// <param name="Top1">The seed's top-1 accuracy; null for a custom model.</param>
/// <param name="Top5">The seed's top-5 accuracy; null for a custom model.</param>
/// <param name="ParameterCount">Exact learnable parameters (BN running statistics excluded), from the architecture
/// (with a custom model's head of <paramref name="ClassCount"/> outputs).</param>
/// <param name="MultiplyAdds">Conv + fc multiply-adds at <paramref name="Resolution"/>, from the architecture.</param>
/// <param name="ParameterCountMatchesSeed">The exact count, in millions rounded to 2 decimals, equals the seed's
/// Params(M); null for a custom model, which has no seed figure.</param>
/// <param name="Normalization">The normalisation the model is served with: the stored weights' where present (an
/// import may override the catalogue's), else the catalogue's.</param>
/// <param name="WeightsPresent">Imported or pulled weights are in the store (random-seed models do not count).</param>
/// <param name="NormalizationOverridden">The stored weights' normalisation differs from the catalogue's.</param>
/// <param name="ClassCount">Outputs of the model's head: 1000 ImageNet classes for the zoo, a custom model's own count.</param>
/// <param name="Custom">A fine-tuned model imported under a name of its own (<see cref="CustomModel"/>).</param>
public sealed record ModelListingRow(
    string Id,
    string Arch,
    string Flavour,
    int Resolution,
    string Normalization,
    double? SeedParamsMillions,
    double? Top1,
    double? Top5,
    long ParameterCount,
    long MultiplyAdds,
    bool? ParameterCountMatchesSeed,
    bool WeightsPresent,
    IReadOnlyList<string> CheckpointUrls,
    bool NormalizationOverridden = false,
    int ClassCount = Architecture.ArchSpec.ImageNetClassCount,
    bool Custom = false)
{
    /// <summary>The normalisation as the table shows it: an override is marked with <c>*</c> ("imagenet*").</summary>
    [JsonIgnore]
    public string NormalizationLabel => NormalizationOverridden ? $"{Normalization}*" : Normalization;
}

/// <summary>Builds the rows of <c>effnet models list</c>: the catalogue in seed order, then the store's custom models
/// by name.</summary>
public static class ModelListing
{
    public static async Task<IReadOnlyList<ModelListingRow>> BuildAsync(ModelStore store, CancellationToken ct)
    {
        var rows = new List<ModelListingRow>(ModelCatalogue.All.Count);
        foreach (var variant in ModelCatalogue.All)
        {
            var stored = store.HasImportedWeights(variant.Id) ? await store.ResolveAsync(variant.Id, null, ct) : null;
            rows.Add(Row(variant, stored is not null, stored?.Variant.Normalization));
        }

        foreach (var custom in await store.ListCustomAsync(ct))
        {
            var stored = store.HasImportedWeights(custom.Name) ? await store.ResolveAsync(custom.Name, null, ct) : null;
            rows.Add(Row(custom.Variant, stored is not null, stored?.Variant.Normalization));
        }

        return rows;
    }

    /// <param name="storedNormalization">The normalisation of the stored weights, if any; null for the catalogue's.</param>
    public static ModelListingRow Row(ModelVariant variant, bool weightsPresent, Normalization? storedNormalization = null)
    {
        var parameters = variant.Architecture.ParameterCount;
        var normalization = storedNormalization ?? variant.Normalization;
        var seed = !variant.IsCustom;
        return new ModelListingRow(
            variant.Id,
            variant.Arch,
            variant.Flavour,
            variant.Resolution,
            normalization.Name,
            seed ? variant.SeedParamsMillions : null,
            seed ? variant.Top1 : null,
            seed ? variant.Top5 : null,
            parameters,
            variant.Architecture.MultiplyAdds,
            seed ? RoundsTo(parameters, variant.SeedParamsMillions) : null,
            weightsPresent,
            variant.CheckpointUrls,
            !normalization.Equals(variant.Normalization),
            variant.Architecture.ClassCount,
            variant.IsCustom);
    }

    /// <summary>The seed prints Params(M) with 2 decimals (6.9 for 6.90).</summary>
    private static bool RoundsTo(long parameters, double seedMillions) =>
        Math.Abs(Math.Round(parameters / 1e6, 2, MidpointRounding.AwayFromZero) - seedMillions) < 1e-9;
}
