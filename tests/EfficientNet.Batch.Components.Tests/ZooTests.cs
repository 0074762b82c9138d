using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>Every one of the seed's 26 model ids resolves, builds and classifies a real photo on CPU.
/// The big archs (b6-b8 at 528-672 px) take seconds each; they run in CI all the same.</summary>
[Trait("Category", "Zoo")]
public sealed class ZooTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("effnet-zoo-").FullName;

    public static TheoryData<string> ModelIds => new(ModelCatalogue.All.Select(v => v.Id));

    public void Dispose() => Directory.Delete(_models, recursive: true);

    [Theory]
    [MemberData(nameof(ModelIds))]
    public async Task Every_catalogue_model_classifies_a_photo(string modelId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Models:Directory"] = _models, ["Inference:BatchSize"] = "1" });
        builder.AddWorkerComponents();
        using var host = builder.Build();
        var classifier = host.Services.GetRequiredService<ImageBatchClassifier>();
        var photo = TestData.FirstPhotos(1)[0];

        var run = await classifier.ClassifyAsync(
            new ModelRef(modelId, RandomWeights: true, Seed: 11),
            [ImageInput.FromFile(photo, 0, Path.GetFileName(photo))],
            5,
            null,
            CancellationToken.None);

        var record = Assert.Single(run.Records);
        Assert.Null(record.Error);
        Assert.Equal(5, record.Top!.Count);
        Assert.All(record.Top, c => Assert.True(float.IsFinite(c.Probability) && c.Probability is > 0 and < 1, $"{modelId}: {c}"));
        Assert.Equal(record.Top.OrderByDescending(c => c.Probability), record.Top);
        Assert.Equal(ModelCatalogue.Get(modelId).Resolution, run.Model.Variant.Resolution);
    }
}
