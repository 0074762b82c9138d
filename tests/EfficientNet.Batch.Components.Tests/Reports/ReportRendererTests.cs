using System.Text.RegularExpressions;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Contracts.Api;
using Xunit.Abstractions;
using static EfficientNet.Batch.Components.Tests.Reports.ReportTestData;

namespace EfficientNet.Batch.Components.Tests.Reports;

public sealed partial class ReportRendererTests(ITestOutputHelper output)
{
    private static readonly string[] SectionIds = ["summary", "errors", "histogram", "galleries", "low-confidence", "evaluation", "confused", "cost"];

    [Fact]
    public async Task Every_section_is_present_with_the_summary_figures()
    {
        var sampler = new ReportSampler();
        var records = Enumerable.Range(0, 40).Select(i => Ok($"photos/{i}.jpg", i % 4, 0.2f + (i % 10 / 20f), label: i % 5, thumbnail: GradientThumbnail.Value)).ToList();
        records.ForEach(sampler.Add);
        sampler.Add(PredictionRecord.Failure("photos/broken.jpg", 1, "corrupt", "corrupt: truncated JPEG"));
        var summary = Summary(sampler, EvaluationOf(records, c => $"class-{c}"), failed: 1, errors: new Dictionary<string, long> { ["corrupt"] = 1 });

        var html = await RenderAsync(summary, sampler);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.All(SectionIds, id => Assert.Single(Regex.Matches(html, $"<section id=\"{id}\">")));
        Assert.Contains($"<title>Report · job {summary.JobId} · efficientnet_b0</title>", html, StringComparison.Ordinal);
        Assert.Contains("4 min 10 s", html, StringComparison.Ordinal);
        Assert.Contains("0.16 images/s", html, StringComparison.Ordinal);
        Assert.Contains("photos/broken.jpg", Section(html, "errors"), StringComparison.Ordinal);
        Assert.Contains("corrupt: truncated JPEG", Section(html, "errors"), StringComparison.Ordinal);
        Assert.Contains("Untrained model", Section(html, "summary"), StringComparison.Ordinal);
        Assert.Contains(">cuda<", Section(html, "cost"), StringComparison.Ordinal);
        Assert.Contains("Expected calibration error", Section(html, "evaluation"), StringComparison.Ordinal);
        // 4 classes × 10 images: galleries of 10; 40 low-confidence; confused pairs with their first examples.
        Assert.Equal(40, Images(Section(html, "galleries")).Count);
        Assert.Equal(40, Images(Section(html, "low-confidence")).Count);
        var confused = summary.Evaluation!.MostConfused;
        Assert.Equal(confused.Sum(p => sampler.ConfusedExamples(p.Actual, p.Predicted).Count), Images(Section(html, "confused")).Count);
        Assert.Contains($"{confused[0].ActualName} → {confused[0].PredictedName}", Section(html, "confused"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paths_and_class_names_are_encoded_and_nothing_can_leave_the_page()
    {
        const string script = "dir/<script>alert(1)</script>&\"q'.jpg";
        const string unicode = "ü/日本語/写真 😀.jpg";
        const string control = "a\u0001b\u007f.jpg";
        var sampler = new ReportSampler();
        sampler.Add(Ok(script, 1, 0.5f, thumbnail: GradientThumbnail.Value, name: "cat<b>&\"dog\""));
        sampler.Add(Ok(unicode, 2, 0.4f, thumbnail: GradientThumbnail.Value));
        sampler.Add(Ok(control, 3, 0.3f, thumbnail: GradientThumbnail.Value));
        sampler.Add(Ok("<img src=http://evil.example/x.png>.jpg", 4, 0.2f, thumbnail: GradientThumbnail.Value, name: "<a href='https://evil.example'>"));

        var html = await RenderAsync(Summary(sampler) with { Dataset = "/data/<photos>" }, sampler);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>&", html, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example/x.png>", html, StringComparison.Ordinal);
        Assert.Contains("data-path=\"dir/&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;q&#39;.jpg\"", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"cat&lt;b&gt;&amp;&quot;dog&quot;: ", html, StringComparison.Ordinal);
        Assert.Contains($"data-path=\"{unicode}\"", html, StringComparison.Ordinal);
        Assert.Contains("data-path=\"a\uFFFDb\uFFFD.jpg\"", html, StringComparison.Ordinal);
        Assert.Contains("/data/&lt;photos&gt;", html, StringComparison.Ordinal);
        // Every image is an inline JPEG, every link an anchor, and the policy forbids anything else.
        Assert.All(SourceAttribute().Matches(html), m => Assert.StartsWith("data:image/jpeg;base64,", m.Groups[1].Value, StringComparison.Ordinal));
        Assert.All(LinkAttribute().Matches(html), m => Assert.StartsWith("#", m.Groups[1].Value, StringComparison.Ordinal));
        Assert.Contains("content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\"", html, StringComparison.Ordinal);
        Assert.Equal(4 * 2, Images(html).Count); // each image in its class gallery and in the low-confidence gallery
    }

    [Fact]
    public async Task A_record_without_a_thumbnail_is_shown_as_a_placeholder()
    {
        var sampler = new ReportSampler();
        sampler.Add(Ok("reused/from-last-run.jpg", 7, 0.8f));
        sampler.Add(Ok("fresh.jpg", 7, 0.9f, thumbnail: GradientThumbnail.Value));

        var galleries = Section(await RenderAsync(Summary(sampler), sampler), "galleries");

        Assert.Single(PlaceholderFor().Matches(galleries));
        Assert.DoesNotContain("<img class=\"thumb\" width=\"96\" height=\"96\" alt=\"class-7: from-last-run.jpg\"", galleries, StringComparison.Ordinal);
        var image = Assert.Single(Images(galleries));
        Assert.Contains("data-path=\"fresh.jpg\"", image, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_without_labels_errors_or_cost_says_so_instead_of_leaving_sections_out()
    {
        var sampler = new ReportSampler();
        sampler.Add(Ok("a.jpg", 1, 0.5f));

        var html = await RenderAsync(Summary(sampler) with { DeviceSeconds = null, Cost = null }, sampler);

        Assert.Contains("Every image was classified.", Section(html, "errors"), StringComparison.Ordinal);
        Assert.Contains("carried no labels", Section(html, "evaluation"), StringComparison.Ordinal);
        Assert.Contains("reported no device time", Section(html, "cost"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_million_records_with_thumbnails_give_a_page_under_the_bound()
    {
        var thumbnail = GradientThumbnail.Value;
        var sampler = new ReportSampler();
        for (var i = 0; i < 1_000_000; i++)
        {
            if (i % 1000 == 0)
            {
                sampler.Add(PredictionRecord.Failure($"shard-{i / 10_000}/img-{i}.jpg", null, i % 3000 == 0 ? "corrupt" : "not-found", $"cannot read image {i}"));
                continue;
            }

            var predicted = (int)((uint)(i * 2654435761u) % 1000);
            sampler.Add(Ok($"shard-{i / 10_000}/img-{i}.jpg", predicted, (float)((i * 7919L) % 1_000_003) / 1_000_003, label: i % 4 == 0 ? (predicted + 3) % 1000 : predicted, thumbnail));
        }

        var evaluation = new EvaluationResult(
            999_000, 999_000, 0, 0.75, 0.9, 5, 0.04,
            Enumerable.Range(0, 1000).Select(c => new ClassMetrics(c, $"class-{c}", 999, 999, 750, 0.75, 0.75, 0.75)).ToList(),
            sampler.ConfusedPairs.Take(20).Select(p => new ConfusedPair(p.Actual, $"class-{p.Actual}", p.Predicted, $"class-{p.Predicted}", p.Count, p.Samples.Select(s => s.Path).ToList())).ToList(),
            Enumerable.Range(0, 10).Select(b => new CalibrationBin(b / 10.0, (b + 1) / 10.0, 99_900, b / 10.0 + 0.05, b / 10.0)).ToList());
        using var page = new MemoryStream();

        await ReportRenderer.WriteAsync(page, Summary(sampler, evaluation, failed: 1000, errors: new Dictionary<string, long> { ["corrupt"] = 334, ["not-found"] = 666 }), sampler, CancellationToken.None);

        output.WriteLine($"report.html of 1,000,000 records: {page.Length:N0} bytes");
        var html = System.Text.Encoding.UTF8.GetString(page.ToArray());
        var tiles = (ReportLimits.GalleryClasses * ReportLimits.ThumbnailsPerClass) + ReportLimits.LowConfidence + (ReportLimits.ConfusedPairs * ReportLimits.ExamplesPerPair);
        Assert.Equal(tiles, Images(html).Count);
        Assert.InRange(page.Length, tiles * thumbnail.Length, ReportLimits.MaxPageBytes);
    }

    [Fact]
    public async Task The_worst_possible_job_still_gives_a_page_under_the_bound()
    {
        // Everything at its largest: thumbnails of the largest accepted size, paths and names of characters that
        // encode to six bytes, far more classes, kinds, pairs, bins, shards and devices than shown.
        var jpeg = new byte[ReportLimits.MaxThumbnailBytes];
        jpeg[0] = 0xFF;
        jpeg[1] = 0xD8;
        jpeg[2] = 0xFF;
        var thumbnail = Convert.ToBase64String(jpeg);
        var quotes = new string('"', 5000);
        var name = new string('"', 5000);
        string PathOf(int i) => $"{quotes}{i}{quotes}";
        var sampler = new ReportSampler();
        for (var i = 0; i < 20_000; i++)
        {
            sampler.Add(Ok(PathOf(i), i % 50, (i % 997) / 997f, label: (i % 50) + 1 + (i % 30), thumbnail, name: name + (i % 50)));
            if (i % 10 == 0)
            {
                sampler.Add(PredictionRecord.Failure(PathOf(i), null, name + (i / 10 % 40), quotes));
            }
        }

        var many = Enumerable.Range(0, 5000).ToList();
        var examples = Enumerable.Range(0, 10).Select(PathOf).ToList();
        var summary = Summary(sampler, new EvaluationResult(
                20_000, 20_000, 0, 0.1, 0.2, 5, 0.3,
                many.Select(c => new ClassMetrics(c, name + c, 10, 10, 1, 0.1, 0.1, 0.1)).ToList(),
                sampler.ConfusedPairs.Select(p => new ConfusedPair(p.Actual, name, p.Predicted, name, p.Count, examples)).ToList(),
                many.Select(b => new CalibrationBin(b, b + 1, 1, 0.5, 0.5)).ToList()),
            failed: 2000,
            // The most frequent kinds are the ones the sampler has examples of.
            errors: many.ToDictionary(k => name + k, k => k < 40 ? 1_000_000L - k : k)) with
        {
            Status = JobStatus.Cancelled,
            Model = new SummaryModel(name, name, name, 224, name, [0f, 0f, 0f], [1f, 1f, 1f]),
            Weights = quotes,
            Dataset = quotes,
            ExecutionProviders = many.Select(_ => name).ToList(),
            Precisions = many.Select(_ => name).ToList(),
            FailedShards = many.Select(i => new FailedShard(i, quotes)).ToList(),
            Top1Histogram = many.Select(c => new ClassCount(c, name + c, 5000 - c)).ToList(),
            DeviceSeconds = many.ToDictionary(k => name + k, k => (double)k),
            Cost = new CostSummary(many.ToDictionary(k => quotes + k, k => 1.0), 1e9, 1e6),
            Review = new ReviewSummary(0.5, 0.1, 5000, quotes, quotes),
            Accuracy = new LabelAccuracy(20_000, 0.1, 0.2),
        };
        using var page = new MemoryStream();

        await ReportRenderer.WriteAsync(page, summary, sampler, CancellationToken.None);

        output.WriteLine($"worst-case report.html: {page.Length:N0} bytes of {ReportLimits.MaxPageBytes:N0}");
        // Close to the bound (so this is the worst case the bound is about), but under it.
        Assert.InRange(page.Length, ReportLimits.MaxPageBytes * 3L / 4, ReportLimits.MaxPageBytes);
    }

    private static string Section(string html, string id)
    {
        var start = html.IndexOf($"<section id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section '{id}'");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    private static List<string> Images(string html) => ImageElement().Matches(html).Select(m => m.Value).ToList();

    [GeneratedRegex("<img [^>]*>")]
    private static partial Regex ImageElement();

    [GeneratedRegex("\\ssrc=\"([^\"]*)\"")]
    private static partial Regex SourceAttribute();

    [GeneratedRegex("\\shref=\"([^\"]*)\"")]
    private static partial Regex LinkAttribute();

    [GeneratedRegex("<div class=\"thumb placeholder\" role=\"img\" aria-label=\"No thumbnail: from-last-run.jpg\" data-path=\"reused/from-last-run.jpg\">")]
    private static partial Regex PlaceholderFor();
}
