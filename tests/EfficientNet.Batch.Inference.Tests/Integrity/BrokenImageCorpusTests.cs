using SixLabors.ImageSharp;

namespace EfficientNet.Batch.Inference.Tests.Integrity;

public sealed class BrokenImageCorpusTests
{
    private static readonly ImagePreprocessor Preprocessor = new(PreprocessSpec.ImageNet(32));

    public static TheoryData<string, string> Cases => BrokenImages.Cases();

    public static TheoryData<string> Samples => [.. ValidImages.All.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_damaged_file_is_an_error_with_a_reason_never_a_prediction(string sample, string damage)
    {
        var broken = BrokenImages.Apply(sample, damage)!;

        var error = Assert.Throws<ImageDecodeException>(() => Preprocessor.Preprocess(broken.Bytes, new float[Preprocessor.TensorLength], broken.Name));

        Assert.True(
            error.Kind == broken.Kind && error.Message.Contains(broken.Reason, StringComparison.OrdinalIgnoreCase),
            $"expected {broken.Kind} naming '{broken.Reason}'; got {error.Kind}: {error.Message}");
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_undamaged_sample_decodes_under_its_own_name(string sample)
    {
        var valid = ValidImages.All[sample];

        var result = Preprocessor.Preprocess(valid.Bytes, new float[Preprocessor.TensorLength], valid.Name);

        Assert.Equal((ValidImages.Width, ValidImages.Height), (result.Width, result.Height));
    }

    [Fact]
    public void The_corpus_covers_every_supported_format_with_every_kind_of_damage()
    {
        var formats = ValidImages.All.Values.Select(s => Image.DetectFormat(s.Bytes).Name).ToHashSet(StringComparer.Ordinal);
        var cases = BrokenImages.Cases().Select(row => ((string)row[0], (string)row[1])).ToList();

        Assert.Equal(["BMP", "GIF", "JPEG", "PBM", "PNG", "TGA", "TIFF", "Webp"], formats.Order(StringComparer.Ordinal));
        Assert.All(BrokenImages.Damages, damage => Assert.Contains(cases, c => c.Item2 == damage));
        Assert.All(ValidImages.All.Keys, sample => Assert.True(cases.Count(c => c.Item1 == sample) >= 6, $"{sample} has too few damages"));
    }
}
