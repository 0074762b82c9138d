using System.Globalization;
using System.Text.RegularExpressions;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Tests;

public sealed partial class ModelCatalogueTests
{
    private sealed record SeedRow(string Id, string Url, double ParamsMillions, double Top1, double Top5);

    private static List<SeedRow> ReadSeedRows()
    {
        var rows = new List<SeedRow>();
        foreach (var line in File.ReadLines(SharedFolder.SeedFile).Where(l => l.StartsWith("| EfficientNet_", StringComparison.Ordinal)))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            var url = ModelLink().Match(line);
            Assert.True(url.Success, $"No model link in seed row: {line}");
            var stem = Path.GetFileNameWithoutExtension(new Uri(url.Groups["url"].Value).AbsolutePath);
            var id = DateAndHash().Replace(stem, "");
            rows.Add(new SeedRow(id, url.Groups["url"].Value, Number(cells[2]), Number(cells[4]), Number(cells[5])));
        }

        return rows;
    }

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    [Fact]
    public void Every_seed_row_maps_to_exactly_one_catalogue_model_with_the_seed_figures()
    {
        var seed = ReadSeedRows();

        Assert.Equal(26, seed.Count);
        Assert.Equal(seed.Count, ModelCatalogue.All.Count);
        for (var i = 0; i < seed.Count; i++)
        {
            var row = seed[i];
            var matches = ModelCatalogue.All.Where(v => v.Id == row.Id.Replace("advprob", "advprop", StringComparison.Ordinal)).ToList();
            var variant = Assert.Single(matches);
            Assert.Same(variant, ModelCatalogue.All[i]); // seed order
            Assert.Equal(row.ParamsMillions, variant.SeedParamsMillions);
            Assert.Equal(row.Top1, variant.Top1);
            Assert.Equal(row.Top5, variant.Top5);
            Assert.Equal(row.Url, variant.CheckpointUrls[0]);
            Assert.Equal(row.ParamsMillions, Math.Round(variant.Architecture.ParameterCount / 1e6, 2));
        }
    }

    [Fact]
    public void Ids_are_unique_and_use_the_advprop_spelling()
    {
        Assert.Equal(ModelCatalogue.All.Count, ModelCatalogue.All.Select(v => v.Id).Distinct().Count());
        Assert.DoesNotContain(ModelCatalogue.All, v => v.Id.Contains("advprob", StringComparison.Ordinal));
        Assert.Contains(ModelCatalogue.All, v => v.Id == "efficientnet_b3_advprop");
    }

    [Theory]
    [InlineData("efficientnet_b3_advprop")]
    [InlineData("efficientnet_b3_advprob")]
    [InlineData("EfficientNet_B3_AdvProb")]
    public void Get_accepts_both_advprop_spellings_in_any_case(string id)
    {
        var variant = ModelCatalogue.Get(id);

        Assert.Equal("efficientnet_b3_advprop", variant.Id);
        Assert.Equal("b3", variant.Arch);
        Assert.Equal("AdvProp+AA", variant.Flavour);
        Assert.Equal(300, variant.Resolution);
        Assert.Equal("01", variant.NormalizationName);
        Assert.Equal([127.5f, 127.5f, 127.5f], variant.Mean);
    }

    [Fact]
    public void Unknown_id_throws_an_error_listing_the_valid_ids()
    {
        var error = Assert.Throws<UnknownModelException>(() => ModelCatalogue.Get("efficientnet_b9"));

        Assert.Contains("efficientnet_b9", error.Message, StringComparison.Ordinal);
        Assert.Contains("efficientnet_b0_autoaugment", error.Message, StringComparison.Ordinal);
        Assert.Contains("efficientnet_em", error.Message, StringComparison.Ordinal);
        Assert.False(ModelCatalogue.TryGet("efficientnet_b9", out _));
    }

    [Theory]
    [InlineData("efficientnet_b0", "standard", "imagenet", "https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet-b0_3rdparty_8xb32_in1k_20220119-a7e2a0b1.pth")]
    [InlineData("efficientnet_b0_autoaugment", "AutoAugment", "imagenet", "https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet-b0_3rdparty_8xb32-aa_in1k_20220119-8d939117.pth")]
    [InlineData("efficientnet_b8_advprop", "AdvProp+AA", "01", "https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet-b8_3rdparty_8xb32-aa-advprop_in1k_20220119-297ce1b7.pth")]
    public void Released_checkpoint_is_the_fallback_after_the_seed_url(string id, string flavour, string normalization, string fallback)
    {
        var variant = ModelCatalogue.Get(id);

        Assert.Equal(flavour, variant.Flavour);
        Assert.Equal(normalization, variant.NormalizationName);
        Assert.Equal(2, variant.CheckpointUrls.Count);
        Assert.Equal(fallback, variant.CheckpointUrls[1]);
    }

    [Theory]
    [InlineData("efficientnet_b5_randaugment", "RandAugment", "imagenet")]
    [InlineData("efficientnet_b7_randaugment", "RandAugment", "imagenet")]
    [InlineData("efficientnet_es", "EdgeTPU-S", "01")]
    [InlineData("efficientnet_em", "EdgeTPU-M", "01")]
    public void Models_without_a_released_file_only_have_the_seed_url(string id, string flavour, string normalization)
    {
        var variant = ModelCatalogue.Get(id);

        Assert.Equal(flavour, variant.Flavour);
        Assert.Equal(normalization, variant.NormalizationName);
        Assert.Single(variant.CheckpointUrls);
    }

    [Fact]
    public void Checkpoint_url_hash_suffix_is_the_sha256_prefix() =>
        Assert.Equal("297ce1b7", CheckpointUrl.Sha256Prefix(ModelCatalogue.Get("efficientnet_b8_advprop").CheckpointUrls[1]));

    [Fact]
    public void Image_net_classes_have_a_thousand_wnids_and_names_in_output_order()
    {
        Assert.Equal(1000, ImageNetClasses.Wnids.Count);
        Assert.Equal(1000, ImageNetClasses.Names.Count);
        Assert.Equal("n01440764", ImageNetClasses.Wnids[0]);
        Assert.Equal("tench", ImageNetClasses.Names[0]);
        Assert.All(ImageNetClasses.Wnids, w => Assert.Matches("^n[0-9]{8}$", w));
    }

    [GeneratedRegex(@"\[model\]\((?<url>https://[^)]+\.pth)\)")]
    private static partial Regex ModelLink();

    [GeneratedRegex(@"_\d{8}-[0-9a-f]{8}$")]
    private static partial Regex DateAndHash();
}
