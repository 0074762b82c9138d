using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using static EfficientNet.Batch.Components.Tests.Reports.ReportTestData;

namespace EfficientNet.Batch.Components.Tests.Reports;

public sealed class ReportSamplerTests
{
    [Fact]
    public void A_million_records_keep_no_more_samples_than_the_caps()
    {
        var thumbnail = GradientThumbnail.Value; // one shared ~2 KB string: what is measured is what the sampler keeps
        var sampler = new ReportSampler();
        var probabilities = new List<float>();
        for (var i = 0; i < 1_000_000; i++)
        {
            if (i % 97 == 0)
            {
                // 31 kinds: more than the sampler tracks.
                sampler.Add(PredictionRecord.Failure($"img/{i}.jpg", null, $"kind-{i % 31}", $"cannot decode {i}"));
                continue;
            }

            // 6,000 classes (more than tracked) and about 30,000 (label, predicted) pairs (more than tracked).
            var predicted = (int)((uint)(i * 2654435761u) % 6000);
            var label = i % 3 == 0 ? (predicted + 1 + (i % 5)) % 6000 : predicted;
            var probability = (float)((i * 7919L) % 1_000_003) / 1_000_003;
            probabilities.Add(probability);
            sampler.Add(Ok($"img/{i}.jpg", predicted, probability, label, thumbnail));
        }

        var classes = sampler.Classes;
        var pairs = sampler.ConfusedPairs;
        var errors = sampler.Errors;
        var held = classes.Sum(c => c.Samples.Count) + sampler.LowConfidence.Count + pairs.Sum(p => p.Samples.Count) + errors.Sum(e => e.Examples.Count);

        Assert.Equal(1_000_000, sampler.Records);
        Assert.Equal(held, sampler.RetainedSamples);
        Assert.InRange(sampler.RetainedSamples, 1, ReportSampler.MaxRetainedSamples);
        Assert.Equal(ReportLimits.TrackedClasses, classes.Count);
        Assert.All(classes, c => Assert.Equal(ReportLimits.ThumbnailsPerClass, c.Samples.Count));
        Assert.Equal(ReportLimits.TrackedPairs, pairs.Count);
        Assert.All(pairs, p => Assert.InRange(p.Samples.Count, 1, ReportLimits.ExamplesPerPair));
        Assert.Equal(ReportLimits.ErrorKinds, errors.Count);
        Assert.All(errors, e => Assert.Equal(ReportLimits.ErrorExamplesPerKind, e.Examples.Count));
        // The low-confidence gallery is exactly the lowest top-1 probabilities, lowest first.
        Assert.Equal(probabilities.Order().Take(ReportLimits.LowConfidence), sampler.LowConfidence.Select(s => s.Top1.Probability));
        Assert.All(classes.SelectMany(c => c.Samples), s => Assert.NotNull(s.Thumbnail));
    }

    [Fact]
    public void Class_samples_are_the_same_whatever_the_order_of_the_records()
    {
        var records = Enumerable.Range(0, 20_000).Select(i => Ok($"photos/{i:D5}.jpg", i % 7, (i % 1000) / 1000f)).ToList();
        var shuffled = records.OrderBy(_ => Random.Shared.Next()).ToList();
        var inOrder = new ReportSampler();
        var outOfOrder = new ReportSampler();
        records.ForEach(inOrder.Add);
        shuffled.ForEach(outOfOrder.Add);

        Assert.Equal(
            inOrder.Classes.Select(c => (c.Index, c.Count, string.Join(",", c.Samples.Select(s => s.Path)))),
            outOfOrder.Classes.Select(c => (c.Index, c.Count, string.Join(",", c.Samples.Select(s => s.Path)))));
        Assert.Equal(inOrder.LowConfidence.Select(s => s.Path), outOfOrder.LowConfidence.Select(s => s.Path));
    }

    [Fact]
    public void A_class_sample_is_spread_over_the_whole_dataset_not_its_first_images()
    {
        var sampler = new ReportSampler();
        for (var i = 0; i < 100_000; i++)
        {
            sampler.Add(Ok($"a/{i}.jpg", 3, 0.9f));
        }

        var positions = sampler.Classes.Single().Samples.Select(s => int.Parse(s.Path[2..^4])).ToList();

        Assert.Equal(ReportLimits.ThumbnailsPerClass, positions.Count);
        Assert.Contains(positions, p => p < 50_000);
        Assert.Contains(positions, p => p >= 50_000);
        Assert.True(positions.Max() > ReportLimits.ThumbnailsPerClass * 100, "a reservoir that keeps the first images is not a sample");
    }

    [Fact]
    public void Confused_pairs_keep_their_first_examples_and_count_every_record()
    {
        var sampler = new ReportSampler();
        for (var i = 0; i < 10; i++)
        {
            sampler.Add(Ok($"cat-as-dog/{i}.jpg", index: 5, probability: 0.6f, label: 2));
        }

        sampler.Add(Ok("right.jpg", index: 2, probability: 0.9f, label: 2));
        sampler.Add(Ok("unlabelled.jpg", index: 5, probability: 0.9f));

        var pair = Assert.Single(sampler.ConfusedPairs);
        Assert.Equal((2, 5, 10L), (pair.Actual, pair.Predicted, pair.Count));
        Assert.Equal(["cat-as-dog/0.jpg", "cat-as-dog/1.jpg", "cat-as-dog/2.jpg"], sampler.ConfusedExamples(2, 5).Select(s => s.Path));
        Assert.Empty(sampler.ConfusedExamples(5, 2));
    }

    [Fact]
    public void Errors_keep_the_first_examples_of_each_kind_with_their_message()
    {
        var sampler = new ReportSampler();
        for (var i = 0; i < 8; i++)
        {
            sampler.Add(PredictionRecord.Failure($"bad/{i}.jpg", null, "corrupt", $"corrupt: truncated JPEG {i}"));
        }

        sampler.Add(PredictionRecord.Failure("missing.jpg", null, "not-found", "'missing.jpg' does not exist."));

        Assert.Equal([("corrupt", 8L), ("not-found", 1L)], sampler.Errors.Select(e => (e.Kind, e.Count)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => new ErrorExample($"bad/{i}.jpg", $"corrupt: truncated JPEG {i}")), sampler.Errors[0].Examples);
    }

    [Fact]
    public void A_thumbnail_that_is_not_a_small_base64_JPEG_is_dropped_and_a_valid_one_kept_as_bytes()
    {
        var valid = GradientThumbnail.Value;
        var large = new byte[ReportLimits.MaxThumbnailBytes + 1];
        large[0] = 0xFF;
        large[1] = 0xD8;
        large[2] = 0xFF;
        var oversized = Convert.ToBase64String(large);
        var sampler = new ReportSampler();
        sampler.Add(Ok("valid.jpg", 1, 0.1f, thumbnail: valid));
        sampler.Add(Ok("not-base64.jpg", 1, 0.2f, thumbnail: "<img src=x onerror=alert(1)>"));
        sampler.Add(Ok("png.jpg", 1, 0.3f, thumbnail: Convert.ToBase64String(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })));
        sampler.Add(Ok("oversized.jpg", 1, 0.4f, thumbnail: oversized));
        sampler.Add(Ok("none.jpg", 1, 0.5f));

        var kept = sampler.LowConfidence.ToDictionary(s => s.Path, s => s.Thumbnail);

        Assert.Equal(Convert.FromBase64String(valid), kept["valid.jpg"]);
        Assert.Null(kept["not-base64.jpg"]);
        Assert.Null(kept["png.jpg"]);
        Assert.Null(kept["oversized.jpg"]);
        Assert.Null(kept["none.jpg"]);
    }

    [Fact]
    public void Long_paths_and_names_are_cut_around_an_ellipsis_keeping_the_file_name()
    {
        var path = string.Concat(Enumerable.Repeat("very/deep/", 200)) + "photo-😀.jpg";
        var sampler = new ReportSampler();
        sampler.Add(Ok(path, 1, 0.5f, name: new string('n', 1000)));

        var sample = Assert.Single(sampler.LowConfidence);

        Assert.Equal(ReportLimits.MaxPathChars, sample.Path.Length);
        Assert.EndsWith("photo-😀.jpg", sample.Path, StringComparison.Ordinal);
        Assert.Contains('…', sample.Path);
        Assert.Equal(ReportLimits.MaxNameChars, sample.Top1.Name.Length);
    }
}
