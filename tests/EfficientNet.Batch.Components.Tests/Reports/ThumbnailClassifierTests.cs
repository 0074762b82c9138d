using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EfficientNet.Batch.Components.Tests.Reports;

/// <summary>The worker's thumbnails: made by the decoders from each image's own slot of the batch tensor.</summary>
[Collection(WorkerCollection.Name)]
public sealed class ThumbnailClassifierTests(WorkerFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task With_thumbnails_requested_every_classified_image_has_the_thumbnail_of_its_own_pixels()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 3, decodeThreads: 2);
        using var _ = sessions;
        var photos = Enumerable.Range(0, 7).Select(fixture.Sample).ToList();
        var inputs = photos.Select(p => ImageInput.FromFile(p, name: Path.GetFileName(p))).ToList();
        inputs.Insert(3, ImageInput.FromFile(fixture.BadInput("truncated.jpg"), name: "truncated.jpg"));

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, inputs, 5, null, CancellationToken.None, thumbnails: true).WaitAsync(Deadline);
        var plain = await classifier.ClassifyAsync(WorkerFixture.Model, inputs, 5, null, CancellationToken.None).WaitAsync(Deadline);

        var variant = run.Model.Variant;
        var spec = new PreprocessSpec(variant.Resolution, variant.Mean, variant.Std);
        var preprocessor = new ImagePreprocessor(spec);
        var tensor = new float[spec.TensorLength];
        Assert.Equal(7, run.Ok);
        foreach (var record in run.Records.Where(r => !r.IsError))
        {
            // The same pixels as decoding the photo alone: no other slot's image, no half-written slot.
            preprocessor.Preprocess(File.ReadAllBytes(photos.Single(p => Path.GetFileName(p) == record.Path)), tensor);
            Assert.Equal(Thumbnails.FromTensor(tensor, spec.Resolution, spec.MeanRgb, spec.StdRgb), record.Thumbnail);
            using var image = Image.Load<Rgb24>(Convert.FromBase64String(record.Thumbnail!));
            Assert.Equal((96, 96), (image.Width, image.Height));
        }

        Assert.Null(run.Records[3].Thumbnail);
        Assert.All(plain.Records, r => Assert.Null(r.Thumbnail));
    }

    [Fact]
    public async Task A_shard_that_asks_for_thumbnails_commits_records_that_carry_them()
    {
        var dataset = TestData.DatasetOf(Enumerable.Range(0, 3).Select(i => (fixture.Sample(i), $"photos/{i}.jpg")));
        var output = Directory.CreateTempSubdirectory("effnet-shard-output-").FullName;
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Models:Directory"] = fixture.Models.Root,
                ["Inference:BatchSize"] = "2",
            });
            builder.AddWorkerComponents();
            using var host = builder.Build();
            var images = Enumerable.Range(0, 3).Select(i => new ShardImage($"photos/{i}.jpg")).ToList();
            var shards = host.Services.GetRequiredService<ShardClassifier>();

            await shards.ClassifyAsync(
                new ClassifyShard(Guid.NewGuid(), 0, 2, WorkerFixture.Model, dataset, images, output, "with.jsonl", 5, Thumbnails: true), CancellationToken.None).WaitAsync(Deadline);
            await shards.ClassifyAsync(
                new ClassifyShard(Guid.NewGuid(), 1, 2, WorkerFixture.Model, dataset, images, output, "without.jsonl", 5), CancellationToken.None).WaitAsync(Deadline);

            var with = File.ReadAllLines(Path.Combine(output, "with.jsonl")).Select(l => PredictionWriter.FromJsonLine(l)!).ToList();
            var without = File.ReadAllLines(Path.Combine(output, "without.jsonl")).Select(l => PredictionWriter.FromJsonLine(l)!).ToList();
            Assert.Equal(3, with.Count);
            Assert.All(with, r =>
            {
                using var image = Image.Load<Rgb24>(Convert.FromBase64String(r.Thumbnail!));
                Assert.Equal((96, 96), (image.Width, image.Height));
            });
            Assert.All(without, r => Assert.Null(r.Thumbnail));
        }
        finally
        {
            Directory.Delete(dataset, recursive: true);
            Directory.Delete(output, recursive: true);
        }
    }
}
