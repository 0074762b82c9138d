using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Download;

namespace EfficientNet.Batch.Models.Tests.Store;

public sealed class ModelListingTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Listing_has_the_26_catalogue_models_in_seed_order()
    {
        var rows = await ModelListing.BuildAsync(new ModelStore(_temp.Path), CancellationToken.None);

        Assert.Equal(26, rows.Count);
        Assert.Equal(ModelCatalogue.All.Select(v => v.Id), rows.Select(r => r.Id));
    }

    [Fact]
    public async Task B0_parameters_and_multiply_adds_are_computed_exactly()
    {
        var b0 = (await ModelListing.BuildAsync(new ModelStore(_temp.Path), CancellationToken.None)).Single(r => r.Id == "efficientnet_b0");

        Assert.Equal(5_288_548, b0.ParameterCount);
        Assert.Equal(385_814_752, b0.MultiplyAdds);
        Assert.Equal(5.29, b0.SeedParamsMillions);
        Assert.Equal("imagenet", b0.Normalization);
        Assert.Equal(224, b0.Resolution);
        Assert.Equal(2, b0.CheckpointUrls.Count);
    }

    [Theory]
    [InlineData("efficientnet_b8_advprop", 87_413_142, 62_597_461_568)]
    [InlineData("efficientnet_em", 6_899_496, 3_660_284_288)]
    [InlineData("efficientnet_es", 5_438_392, 2_352_307_840)]
    public void Counts_match_the_spec_table(string id, long parameters, long multiplyAdds)
    {
        var row = ModelListing.Row(ModelCatalogue.Get(id), weightsPresent: false);

        Assert.Equal(parameters, row.ParameterCount);
        Assert.Equal(multiplyAdds, row.MultiplyAdds);
    }

    [Fact]
    public async Task No_computed_count_disagrees_with_the_seed()
    {
        var rows = await ModelListing.BuildAsync(new ModelStore(_temp.Path), CancellationToken.None);

        Assert.All(rows, r => Assert.True(r.ParameterCountMatchesSeed, r.Id));
    }

    [Fact]
    public void A_seed_figure_that_does_not_round_from_the_count_is_flagged()
    {
        var b0 = ModelCatalogue.Get("efficientnet_b0");

        Assert.False(ModelListing.Row(b0 with { SeedParamsMillions = 5.3 }, weightsPresent: false).ParameterCountMatchesSeed);
    }

    [Fact]
    public async Task Weights_present_only_for_imported_models_not_random_seeds()
    {
        var store = new ModelStore(_temp.Path);
        await store.ImportAsync("efficientnet_es", Weights.RandomWeights.Generate(ModelCatalogue.Get("efficientnet_es").Architecture, 1), "x.pth", "00", CancellationToken.None);
        await store.ResolveAsync("efficientnet_em", 1, CancellationToken.None);

        var present = (await ModelListing.BuildAsync(store, CancellationToken.None)).Where(r => r.WeightsPresent).Select(r => r.Id);

        Assert.Equal(["efficientnet_es"], present);
    }
}
