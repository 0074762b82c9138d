using System.Collections.Concurrent;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Reports;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Models;
using Microsoft.Playwright;

namespace EfficientNet.Batch.Components.Tests.Reports;

/// <summary>
/// The report as a user sees it: real photos classified by the worker's pipeline with thumbnails, rendered, and opened
/// in headless Chromium (Debian's <c>chromium</c> package, or <c>CHROMIUM_PATH</c>; Playwright's own browser download is
/// never used). Chromium missing is a failure, not a skip: CI installs it.
/// </summary>
[Collection(WorkerCollection.Name)]
public sealed class ReportChromiumTests(WorkerFixture fixture)
{
    private static readonly string[] SectionIds = ["summary", "errors", "histogram", "galleries", "low-confidence", "evaluation", "confused", "cost"];

    [Fact]
    public async Task A_report_of_real_photos_renders_in_Chromium_with_every_thumbnail_decoded_and_nothing_loaded_from_outside()
    {
        var chromium = ChromiumPath();
        var (records, sampler) = await ClassifyPhotosAsync(96);
        var names = ImageNetClasses.Names;
        var summary = ReportTestData.Summary(
            sampler,
            ReportTestData.EvaluationOf(records, c => names[c]),
            failed: records.Count(r => r.IsError),
            errors: records.Where(r => r.IsError).GroupBy(r => r.ErrorKind!).ToDictionary(g => g.Key, g => (long)g.Count()));
        var results = Path.Combine(RepositoryRoot(), "artifacts", "test-results");
        Directory.CreateDirectory(results);
        var file = Path.Combine(results, "report.html");
        await using (var html = File.Create(file))
        {
            await ReportRenderer.WriteAsync(html, summary, sampler, CancellationToken.None);
        }

        // What the page must show: every sampled image of the sections with galleries.
        var expected = new Dictionary<string, List<string>>
        {
            ["galleries"] = sampler.Classes.Take(ReportLimits.GalleryClasses).SelectMany(c => c.Samples).Select(s => s.Path).ToList(),
            ["low-confidence"] = sampler.LowConfidence.Select(s => s.Path).ToList(),
            ["confused"] = summary.Evaluation!.MostConfused.Take(ReportLimits.ConfusedPairs)
                .SelectMany(p => sampler.ConfusedExamples(p.Actual, p.Predicted)).Select(s => s.Path).ToList(),
        };
        Assert.All(expected.Values, paths => Assert.NotEmpty(paths));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var problems = new ConcurrentQueue<string>();
        var requests = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Enqueue($"console error: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems.Enqueue($"page error: {error}");
        page.Request += (_, request) => requests.Enqueue(request.Url);
        var url = new Uri(file).AbsoluteUri;

        await page.GotoAsync(url, new() { WaitUntil = WaitUntilState.Load });
        await page.WaitForFunctionAsync("() => Array.from(document.images).every(i => i.complete)");

        Assert.Equal($"Report · job {summary.JobId} · {summary.Model.Id}", await page.TitleAsync());
        foreach (var id in SectionIds)
        {
            Assert.True(await page.Locator($"section#{id}").IsVisibleAsync(), $"section '{id}' is not visible");
        }

        foreach (var (section, paths) in expected)
        {
            // Decoded (a broken data: URI has naturalWidth 0), laid out at full size, and the images the sampler chose.
            var images = await page.Locator($"#{section} img.thumb").EvaluateAllAsync<ImageState[]>(
                "images => images.map(i => ({ Path: i.dataset.path, NaturalWidth: i.naturalWidth, Width: i.getBoundingClientRect().width, Visible: i.checkVisibility() }))");
            Assert.Equal(paths, images.Select(i => i.Path));
            Assert.All(images, i => Assert.Equal(96, i.NaturalWidth));
            Assert.All(images, i => Assert.True(i.Visible && i.Width >= 90, $"{i.Path} is not visible ({i.Width} px wide)"));
        }

        // A picture of the first screen for people reading the run's artifacts, not evidence: the checks are above. A
        // full-page capture of every thumbnail took over 30 s on a loaded 2-core CI machine.
        await page.ScreenshotAsync(new() { Path = Path.Combine(results, "report.png"), Timeout = 120_000 });

        Assert.Empty(problems);
        Assert.Contains(url, requests);
        Assert.All(requests, r => Assert.True(r == url || r.StartsWith("data:", StringComparison.Ordinal), $"the page requested {r}"));
    }

    /// <summary>The first <paramref name="count"/> labelled photos (and two bad files) through the worker's pipeline.</summary>
    private async Task<(List<PredictionRecord> Records, ReportSampler Sampler)> ClassifyPhotosAsync(int count)
    {
        var labels = File.ReadLines(Path.Combine(TestData.Samples, "labels.csv")).Skip(1)
            .Select(line => line.Split(','))
            .Take(count)
            .Select(columns => ImageInput.FromFile(Path.Combine(TestData.Samples, columns[0]), int.Parse(columns[1]), name: $"imagenet/{columns[0]}"))
            .ToList();
        labels.Insert(10, ImageInput.FromFile(fixture.BadInput("truncated.jpg"), 3, name: "bad/truncated <1>.jpg"));
        labels.Insert(20, ImageInput.FromFile(fixture.BadInput("not-an-image.jpg"), 4, name: "bad/not-an-image & co.jpg"));
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 8);
        using var _ = sessions;

        var run = await classifier.ClassifyAsync(WorkerFixture.Model, labels, 5, null, CancellationToken.None, thumbnails: true).WaitAsync(TimeSpan.FromMinutes(3));

        var sampler = new ReportSampler();
        foreach (var record in run.Records)
        {
            sampler.Add(record);
        }

        return (run.Records.ToList(), sampler);
    }

    private static string ChromiumPath()
    {
        var path = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        Assert.True(
            File.Exists(path),
            $"Chromium is not at {path}: install it (Debian: `apt-get install -y chromium`) or set CHROMIUM_PATH to its executable. The report test never downloads a browser.");
        return path;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EfficientNet.Batch.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No EfficientNet.Batch.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>What the browser says of one thumbnail (filled by Playwright, which needs settable properties).</summary>
    private sealed class ImageState
    {
        public string Path { get; set; } = "";

        public int NaturalWidth { get; set; }

        public double Width { get; set; }

        public bool Visible { get; set; }
    }
}
