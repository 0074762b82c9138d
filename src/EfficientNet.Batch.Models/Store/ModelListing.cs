using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>One row of <c>effnet models list</c>: the seed's figures next to the ones computed from the architecture
/// the ONNX builder uses, and whether weights are in the local store.</summary>
/// <param name="ParameterCount">Exact learnable parameters (BN running statistics excluded), from the architecture.</param>
/// <param name="MultiplyAdds">Conv + fc multiply-adds at <paramref name="Resolution"/>, from the architecture.</param>
/// <param name="ParameterCountMatchesSeed">The exact count, in millions rounded to 2 decimals, equals the seed's Params(M).</param>
/// <param name="WeightsPresent">Imported or pulled weights are in the store (random-seed models do not count).</param>
public sealed record ModelListingRow(
    string Id,
    string Arch,
    string Flavour,
    int Resolution,
    string Normalization,
    double SeedParamsMillions,
    double Top1,
    double Top5,
    long ParameterCount,
    long MultiplyAdds,
    bool ParameterCountMatchesSeed,
    bool WeightsPresent,
    IReadOnlyList<string> CheckpointUrls);

/// <summary>Builds the rows of <c>effnet models list</c>, in catalogue (seed) order.</summary>
public static class ModelListing
{
    public static IReadOnlyList<ModelListingRow> Build(ModelStore store) =>
        [.. ModelCatalogue.All.Select(v => Row(v, store.HasImportedWeights(v.Id)))];

    public static ModelListingRow Row(ModelVariant variant, bool weightsPresent)
    {
        var parameters = variant.Architecture.ParameterCount;
        return new ModelListingRow(
            variant.Id,
            variant.Arch,
            variant.Flavour,
            variant.Resolution,
            variant.NormalizationName,
            variant.SeedParamsMillions,
            variant.Top1,
            variant.Top5,
            parameters,
            variant.Architecture.MultiplyAdds,
            RoundsTo(parameters, variant.SeedParamsMillions),
            weightsPresent,
            variant.CheckpointUrls);
    }

    /// <summary>The seed prints Params(M) with 2 decimals (6.9 for 6.90).</summary>
    private static bool RoundsTo(long parameters, double seedMillions) =>
        Math.Abs(Math.Round(parameters / 1e6, 2, MidpointRounding.AwayFromZero) - seedMillions) < 1e-9;
}
