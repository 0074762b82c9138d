using System.Text.Json.Nodes;
using CsvHelper;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>A whole job (coordinator and worker on the in-memory bus, real untrained B0) asking for every output:
/// each file is written, agrees with predictions.jsonl, and the summary says where they are, what the review queue
/// holds, how the labelled records evaluate, and what the device time cost.</summary>
public sealed class JobOutputsTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("effnet-models-").FullName;
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-work-").FullName;
    private readonly List<string> _datasets = [];

    public void Dispose()
    {
        foreach (var dir in _datasets.Append(_models).Append(_work))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_job_with_every_output_writes_each_file_the_review_queue_its_evaluation_and_its_cost()
    {
        var photos = TestData.FirstPhotos(6);
        var dataset = TestData.DatasetOf(photos.Select(p => (p, "img/" + Path.GetFileName(p)))
            .Append((Path.Combine(TestData.BadInputs, "truncated.jpg"), "img/truncated, \"bad\".jpg")));
        _datasets.Add(dataset);
        var manifest = Path.Combine(dataset, "manifest.csv");
        await File.WriteAllLinesAsync(manifest, ["path,label", .. photos.Select((p, i) => $"img/{Path.GetFileName(p)},{i % 3}"), "\"img/truncated, \"\"bad\"\".jpg\",2"]);
        using var host = InMemoryBusJobTests.BuildHost(_models, _work, settings: new Dictionary<string, string?> { ["Cost:PricePerHour:Cpu"] = "0.36" });
        await host.StartAsync();

        var job = await InMemoryBusJobTests.RunJobAsync(host, new JobSpec
        {
            Dataset = manifest,
            Model = "efficientnet_b0",
            RandomWeights = true,
            Seed = 5,
            ShardSize = 3,
            TopK = 3,
            Outputs = ["parquet", "CSV", "report"],
            Review = new ReviewSpec(MaxProbability: 0.5),
        });

        Assert.Equal(JobStatus.Completed, job.Status);
        var records = File.ReadAllLines(Path.Combine(job.Output, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(7, records.Count);
        Assert.All(records, r => Assert.Null(r["thumbnail"]));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(job.Output, "summary.json")))!;

        // Every file is where the summary says.
        var outputs = summary["outputs"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        Assert.Equal(
            ["csv", "jsonl", "labelstudio", "labelstudio-config", "parquet", "report", "review"],
            outputs.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, location) in outputs)
        {
            Assert.True(File.Exists(location), $"{name}: {location} is missing");
        }

        // CSV: one row per record, in order, with the top-k as columns.
        await using (var stream = File.OpenRead(outputs["csv"]))
        {
            using var csv = CsvReader.Create(stream, CsvReaderOptions.Default with { Separator = ',', DetectSeparatorHint = false }, leaveOpen: false);
            await csv.ReadHeaderAsync(CancellationToken.None);
            var rows = new List<(string Path, string Top3)>();
            while (await csv.ReadAsync(CancellationToken.None))
            {
                rows.Add((csv.GetString("path"), csv.GetString("top3_name")));
            }

            Assert.Equal(records.Select(r => r["path"]!.GetValue<string>()), rows.Select(r => r.Path));
            Assert.Equal(records[0]["top"]![2]!["name"]!.GetValue<string>(), rows[0].Top3);
        }

        // The report carries the workers' thumbnails, and nothing it shows is fetched from elsewhere.
        var report = await File.ReadAllTextAsync(outputs["report"]);
        Assert.True(CountOf(report, "data:image/jpeg;base64,") >= 6, "the report shows no thumbnails made by the workers");
        Assert.DoesNotContain("src=\"http", report, StringComparison.Ordinal);

        // Review queue: untrained weights are never sure, so every image, and the unreadable one as an error.
        var review = File.ReadAllLines(outputs["review"]).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(records.Select(r => r["path"]!.GetValue<string>()), review.Select(r => r["path"]!.GetValue<string>()));
        Assert.Equal(["error"], review.Single(r => r["path"]!.GetValue<string>().Contains("truncated", StringComparison.Ordinal))["reasons"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.All(review.Where(r => r["error"] is null), r => Assert.Contains("low-probability", r["reasons"]!.AsArray().Select(x => x!.GetValue<string>())));
        Assert.Equal(7, summary["review"]!["images"]!.GetValue<long>());
        Assert.Equal(0.5, summary["review"]!["maxProbability"]!.GetValue<double>());

        // Label Studio: one task per queued image, the image where Label Studio's local-file serving finds it, and
        // the model's top-k as scored pre-annotations whose choices the labeling config lists.
        var tasks = JsonNode.Parse(await File.ReadAllTextAsync(outputs["labelstudio"]))!.AsArray();
        Assert.Equal(7, tasks.Count);
        var config = await File.ReadAllTextAsync(outputs["labelstudio-config"]);
        foreach (var (task, record) in tasks.Zip(records))
        {
            var image = task!["data"]!["image"]!.GetValue<string>();
            Assert.StartsWith("/data/local-files/?d=", image, StringComparison.Ordinal);
            Assert.Equal(Path.Combine(dataset, record["path"]!.GetValue<string>()).TrimStart('/'), Uri.UnescapeDataString(image["/data/local-files/?d=".Length..]));
            var predictions = task["predictions"]!.AsArray();
            Assert.Equal(record["top"]?.AsArray().Count ?? 0, predictions.Count);
            foreach (var (prediction, predicted) in predictions.Zip(record["top"]?.AsArray() ?? []))
            {
                var result = Assert.Single(prediction!["result"]!.AsArray())!;
                Assert.Equal("label", result["from_name"]!.GetValue<string>());
                Assert.Equal("image", result["to_name"]!.GetValue<string>());
                Assert.Equal("choices", result["type"]!.GetValue<string>());
                var choice = Assert.Single(result["value"]!["choices"]!.AsArray())!.GetValue<string>();
                Assert.Equal(predicted!["name"]!.GetValue<string>(), choice);
                Assert.Contains($"<Choice value=\"{System.Security.SecurityElement.Escape(choice)}\"/>", config, StringComparison.Ordinal);
                Assert.Equal(predicted["probability"]!.GetValue<float>(), prediction["score"]!.GetValue<float>());
                Assert.False(string.IsNullOrEmpty(prediction["model_version"]!.GetValue<string>()));
            }
        }

        // Evaluation: recounted here from predictions.jsonl.
        var evaluation = summary["evaluation"]!;
        var classified = records.Where(r => r["top"] is not null).ToList();
        Assert.Equal(7, evaluation["labelled"]!.GetValue<long>());
        Assert.Equal(6, evaluation["evaluated"]!.GetValue<long>());
        Assert.Equal(1, evaluation["errors"]!.GetValue<long>());
        var top1 = classified.Count(r => r["top"]![0]!["index"]!.GetValue<int>() == r["label"]!.GetValue<int>());
        Assert.Equal(Math.Round(top1 / 6.0, 4), evaluation["top1"]!.GetValue<double>());
        var topK = classified.Count(r => r["top"]!.AsArray().Any(c => c!["index"]!.GetValue<int>() == r["label"]!.GetValue<int>()));
        Assert.Equal(Math.Round(topK / 6.0, 4), evaluation["top5"]!.GetValue<double>());
        Assert.Equal(3, evaluation["topK"]!.GetValue<int>());

        // Cost: the CPU seconds the shards took, at 0.36 an hour, per 1,000 of the 7 images.
        var cpuSeconds = summary["deviceSeconds"]!["cpu"]!.GetValue<double>();
        Assert.True(cpuSeconds > 0);
        var cost = summary["cost"]!;
        Assert.Equal(0.36, cost["pricePerHour"]!["cpu"]!.GetValue<double>());
        // The summary rounds both to 6 decimals; within that rounding of the exact figures (comparing at 5 decimal places
        // failed whenever the 6th digit rounded across a 5th-place boundary).
        Assert.Equal(cpuSeconds / 3600 * 0.36, cost["total"]!.GetValue<double>(), tolerance: 1e-6);
        Assert.Equal(cpuSeconds / 3600 * 0.36 / 7 * 1000, cost["per1000Images"]!.GetValue<double>(), tolerance: 1e-6);
    }

    [Fact]
    public async Task Without_prices_the_summary_has_device_seconds_and_no_cost_and_only_the_jsonl_is_written()
    {
        var dataset = TestData.DatasetOf(TestData.FirstPhotos(2).Select(p => (p, Path.GetFileName(p))));
        _datasets.Add(dataset);
        using var host = InMemoryBusJobTests.BuildHost(_models, _work);
        await host.StartAsync();

        var job = await InMemoryBusJobTests.RunJobAsync(host, new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true });

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(job.Output, "summary.json")))!;
        Assert.True(summary["deviceSeconds"]!["cpu"]!.GetValue<double>() > 0);
        Assert.Null(summary["cost"]);
        Assert.Null(summary["review"]);
        Assert.Equal(["jsonl"], summary["outputs"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["predictions.jsonl", "summary.json"], Directory.GetFiles(job.Output).Select(Path.GetFileName).Where(n => !n!.StartsWith(".~", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_price_for_an_unknown_device_or_a_negative_price_stops_the_start_with_its_setting_named()
    {
        var validator = new CostOptionsValidator();
        var result = validator.Validate(null, new CostOptions { PricePerHour = new(StringComparer.OrdinalIgnoreCase) { ["Tpu"] = 1, ["Cuda"] = -2 } });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Cost:PricePerHour:Tpu", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Cost:PricePerHour:Cuda", StringComparison.Ordinal));
        Assert.True(validator.Validate(null, new CostOptions { PricePerHour = new(StringComparer.OrdinalIgnoreCase) { ["cpu"] = 0.1, ["CUDA"] = 2.5 } }).Succeeded);
    }

    [Fact]
    public void Cost_is_device_seconds_at_each_kinds_price_and_none_when_a_used_kind_has_no_price()
    {
        var seconds = new Dictionary<string, double> { ["cpu"] = 7200, ["cuda"] = 1800 };
        var prices = new CostOptions { PricePerHour = new(StringComparer.OrdinalIgnoreCase) { ["Cpu"] = 0.5, ["Cuda"] = 4 } };

        var cost = JobSummaryBuilder.Cost(seconds, prices, imagesClassified: 4000)!;

        Assert.Equal(3.0, cost.Total, 9); // 2 h × 0.5 + 0.5 h × 4
        Assert.Equal(0.75, cost.Per1000Images, 9);
        Assert.Null(JobSummaryBuilder.Cost(seconds, new CostOptions { PricePerHour = new(StringComparer.OrdinalIgnoreCase) { ["cpu"] = 1 } }, 10));
        Assert.Equal("cuda", DeviceKinds.Of("CUDAExecutionProvider"));
        Assert.Equal("cpu", DeviceKinds.Of("CPUExecutionProvider"));
    }

    [Theory]
    [InlineData(0.9f, 0.05f, null, 0.5, new string[0])]
    [InlineData(0.4f, 0.3f, 0.5, null, new[] { "low-probability" })]
    [InlineData(0.45f, 0.44f, 0.3, 0.05, new[] { "low-margin" })]
    [InlineData(0.25f, 0.24f, 0.3, 0.05, new[] { "low-probability", "low-margin" })]
    public void The_review_queue_takes_low_probability_and_low_margin_records(float first, float second, double? maxProbability, double? minMargin, string[] expected)
    {
        var record = new PredictionRecord { Path = "a.jpg", Top = [new PredictedClass(1, "a", first), new PredictedClass(2, "b", second)] };

        Assert.Equal(expected, ReviewSelector.Reasons(record, new ReviewSpec(maxProbability, minMargin)));
        Assert.Equal(["error"], ReviewSelector.Reasons(PredictionRecord.Failure("b.jpg", null, "corrupt", "bad"), new ReviewSpec(0.1)));
    }

    [Theory]
    [InlineData("az://photos/2026/batch", "cats/a b.jpg", "azure-blob://photos/2026/batch/cats/a b.jpg")]
    [InlineData("/data/sets", "cats/a b#1.jpg", "/data/local-files/?d=data/sets/cats/a%20b%231.jpg")]
    [InlineData("file:///data/sets", "x.jpg", "/data/local-files/?d=data/sets/x.jpg")]
    public void Label_studio_tasks_point_at_the_image_where_label_studio_can_open_it(string root, string path, string expected) =>
        Assert.Equal(expected, LabelStudioOutputFormat.ImageUri(root, path));

    [Fact]
    public void Requests_for_unknown_formats_or_review_bounds_outside_zero_to_one_are_refused_by_name()
    {
        var errors = new List<string>();
        OutputRequestRules.Validate(new JobSpec { Dataset = "d", Model = "m", Outputs = ["csv", "xls"], Review = new ReviewSpec(1.5, -0.1) }, errors);

        Assert.Contains(errors, e => e.Contains("'xls'", StringComparison.Ordinal) && e.Contains("parquet", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("review.maxProbability", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("review.minMargin", StringComparison.Ordinal));
        errors.Clear();
        OutputRequestRules.Validate(new JobSpec { Dataset = "d", Model = "m", Review = new ReviewSpec() }, errors);
        Assert.Single(errors);
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
