using System.Globalization;
using System.Text;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Reports;

/// <summary>
/// Writes <c>report.html</c>: one self-contained page (inline CSS, thumbnails as <c>data:</c> URIs, a Content Security
/// Policy that lets nothing else load) with the job's summary, errors, top-1 histogram, class galleries, low-confidence
/// gallery, evaluation against labels, most-confused pairs and cost. Sections have stable ids (<c>summary</c>,
/// <c>errors</c>, <c>histogram</c>, <c>galleries</c>, <c>low-confidence</c>, <c>evaluation</c>, <c>confused</c>,
/// <c>cost</c>). Every list is capped and every string cut and HTML-encoded (<see cref="ReportLimits"/>), so the page
/// stays under <see cref="ReportLimits.MaxPageBytes"/> whatever the job.
/// </summary>
public static class ReportRenderer
{
    private const string Stylesheet = """
        :root{--fg:#1d2330;--muted:#5f6b7a;--bg:#f4f5f7;--card:#fff;--line:#e2e5ea;--accent:#2f6fde;--bad:#c0392b;--ok:#1e8e3e}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
        header{background:#1d2330;color:#fff;padding:20px 32px 14px}
        header h1{margin:0;font-size:22px}
        header p{margin:4px 0 12px;color:#c9d1dc;overflow-wrap:anywhere}
        nav a{color:#c9d1dc;margin-right:16px;text-decoration:none;white-space:nowrap}
        nav a:hover{color:#fff}
        main{max-width:1280px;margin:0 auto;padding:4px 32px 48px}
        section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:20px 0}
        h2{margin:0 0 12px;font-size:18px}
        h3{margin:20px 0 8px;font-size:15px;overflow-wrap:anywhere}
        .muted{color:var(--muted);font-weight:normal}
        .note{color:var(--muted);margin:0}
        .warn{color:var(--bad);font-weight:600}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px}
        .card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;min-width:0}
        .card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .card .v{font-size:18px;font-weight:600;overflow-wrap:anywhere}
        .card .d{color:var(--muted);font-size:12px;overflow-wrap:anywhere}
        .status-Completed{color:var(--ok)}.status-CompletedWithErrors,.status-Failed,.status-Cancelled{color:var(--bad)}
        .pairs{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:0 24px}
        .pair{min-width:0}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(124px,1fr));gap:10px}
        .tile{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px;background:#fafbfc;min-width:0}
        .thumb{display:block;width:96px;height:96px;margin:0 auto;border-radius:4px;object-fit:cover}
        .placeholder{display:flex;align-items:center;justify-content:center;color:var(--muted);font-size:11px;background:repeating-linear-gradient(45deg,#eef0f3 0 8px,#e4e7ec 8px 16px)}
        figcaption{font-size:12px;margin-top:5px}
        figcaption span{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .path{color:var(--muted)}
        table{border-collapse:collapse;width:100%;font-size:13px}
        th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
        th{color:var(--muted);font-weight:600}
        .n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        td code{font-size:12px;overflow-wrap:anywhere}
        ul.examples{margin:0;padding-left:16px}
        .bars{display:grid;grid-template-columns:minmax(100px,260px) 1fr auto;gap:4px 12px;align-items:center}
        .bars>span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .bar{background:#eef0f3;border-radius:3px;height:14px;overflow:hidden}
        .bar>i{display:block;height:100%;background:var(--accent)}
        .bar.other>i{background:#9aa5b4}
        .bar.reliability{display:block;position:relative}
        .bar.reliability>b{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:var(--bad)}
        footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 24px}
        @media (max-width:640px){header,main{padding-left:12px;padding-right:12px}.bars{grid-template-columns:1fr auto}.bars>.bar{display:none}}
        """;

    // Nothing but this page, its inline styles and its data: images may load.
    private const string ContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

    public static async Task WriteAsync(Stream destination, JobSummary summary, ReportSampler samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(samples);
        await using var writer = new StreamWriter(destination, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 64 * 1024, leaveOpen: true);
        var page = new Page(summary, samples);
        foreach (var part in page.Parts())
        {
            part();
            await writer.WriteAsync(page.Html, cancellationToken);
            page.Html.Clear();
        }

        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>The page being written: each part appends its HTML, which is written out before the next.</summary>
    private sealed class Page(JobSummary summary, ReportSampler samples)
    {
        private readonly Dictionary<int, string> _classNames = ClassNames(summary, samples);

        public StringBuilder Html { get; } = new(64 * 1024);

        public IEnumerable<Action> Parts()
        {
            yield return Head;
            yield return Summary;
            yield return Errors;
            yield return Histogram;
            yield return () => Open("galleries", "Top-1 classes");
            foreach (var gallery in samples.Classes.Take(ReportLimits.GalleryClasses))
            {
                yield return () => Gallery(gallery);
            }

            yield return GalleriesEnd;
            yield return LowConfidence;
            yield return Evaluation;
            yield return () => Open("confused", "Most-confused pairs").Raw("<div class=\"pairs\">\n");
            foreach (var pair in ConfusedPairs())
            {
                yield return () => Confused(pair);
            }

            yield return ConfusedEnd;
            yield return Cost;
            yield return Tail;
        }

        private void Head()
        {
            var title = $"Report · job {summary.JobId} · {summary.Model.Id}";
            Raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
            Raw("<meta http-equiv=\"Content-Security-Policy\" content=\"").Raw(ContentSecurityPolicy).Raw("\">\n<title>").Text(title, ReportLimits.MaxTextChars).Raw("</title>\n");
            Raw("<style>\n").Raw(Stylesheet).Raw("\n</style>\n</head>\n<body>\n<header>\n<h1>Job report</h1>\n<p>");
            Text(summary.JobId.ToString()).Raw(" · ").Text(summary.Model.Id, ReportLimits.MaxNameChars).Raw(" · ").Text(summary.Dataset, ReportLimits.MaxPathChars).Raw("</p>\n<nav>");
            foreach (var (id, label) in new[]
            {
                ("summary", "Summary"), ("errors", "Errors"), ("histogram", "Histogram"), ("galleries", "Galleries"),
                ("low-confidence", "Low confidence"), ("evaluation", "Evaluation"), ("confused", "Confused pairs"), ("cost", "Cost"),
            })
            {
                Raw("<a href=\"#").Raw(id).Raw("\">").Raw(label).Raw("</a>");
            }

            Raw("</nav>\n</header>\n<main>\n");
        }

        private void Summary()
        {
            Open("summary", "Summary");
            if (summary.Untrained)
            {
                Raw("<p class=\"warn\">Untrained model (random weights): its predictions are meaningless.</p>\n");
            }

            var model = summary.Model;
            Raw("<div class=\"cards\">\n");
            Card("Status", Status(summary.Status), $"status-{summary.Status}", summary.Status == JobStatus.Cancelled && summary.ImagesNotClassified > 0
                ? $"{N(summary.ImagesNotClassified)} images not classified" : null);
            Card("Model", model.Id, null, $"{model.Arch}, {model.Resolution} px, {model.Normalization}");
            Card("Weights", summary.Weights, null, summary.Precisions.Count > 0 ? $"precision {Join(summary.Precisions)}" : null);
            Card("Images ok", N(summary.ImagesOk), null, $"of {N(summary.ImagesTotal)} ({Percent(summary.ImagesOk, summary.ImagesTotal)})");
            Card("Images failed", N(summary.ImagesFailed), summary.ImagesFailed > 0 ? "warn" : null,
                summary.SkippedFiles > 0 ? $"{N(summary.SkippedFiles)} files skipped while listing" : null);
            Card("Wall time", Duration(summary.WallSeconds), null, $"{summary.SubmittedAt:yyyy-MM-dd HH:mm:ss} → {summary.CompletedAt:HH:mm:ss} UTC");
            Card("Throughput", $"{summary.ImagesPerSecond.ToString("#,0.##", CultureInfo.InvariantCulture)} images/s", null,
                summary.ExecutionProviders.Count > 0 ? $"on {Join(summary.ExecutionProviders)}" : null);
            Card("Shards", N(summary.Shards), summary.FailedShards.Count > 0 ? "warn" : null,
                summary.FailedShards.Count > 0 ? $"{N(summary.FailedShards.Count)} failed" : "all succeeded");
            if (summary.Accuracy is { } accuracy)
            {
                Card("Accuracy", $"{Percent(accuracy.Top1)} top-1", null, $"{Percent(accuracy.TopK)} top-k, {N(accuracy.Labelled)} labelled");
            }

            if (summary.Review is { } review)
            {
                Card("Review queue", $"{N(review.Images)} images", null, review.Location);
            }

            Raw("</div>\n");
            if (summary.FailedShards.Count > 0)
            {
                Raw("<h3>Failed shards</h3>\n<table><thead><tr><th class=\"n\">Shard</th><th>Reason</th></tr></thead><tbody>\n");
                foreach (var shard in summary.FailedShards.Take(ReportLimits.ListEntries))
                {
                    Raw("<tr><td class=\"n\">").Raw(N(shard.Index)).Raw("</td><td>").Text(shard.Reason ?? "", ReportLimits.MaxTextChars).Raw("</td></tr>\n");
                }

                More(summary.FailedShards.Count - ReportLimits.ListEntries, "more failed shards", 2);
                Raw("</tbody></table>\n");
            }

            Close();
        }

        private void Errors()
        {
            Open("errors", "Errors");
            // The summary's counts cover every record; the sampler's examples the kinds it tracked.
            var examples = samples.Errors.ToDictionary(e => e.Kind, StringComparer.Ordinal);
            var kinds = summary.ErrorsByKind.Count > 0
                ? summary.ErrorsByKind.Select(e => (Kind: e.Key, Count: e.Value)).ToList()
                : samples.Errors.Select(e => (e.Kind, e.Count)).ToList();
            if (kinds.Count == 0)
            {
                Raw("<p class=\"note\">Every image was classified.</p>\n");
                Close();
                return;
            }

            var ordered = kinds.OrderByDescending(k => k.Count).ThenBy(k => k.Kind, StringComparer.Ordinal).ToList();
            Raw("<table><thead><tr><th>Kind</th><th class=\"n\">Images</th><th>Examples</th></tr></thead><tbody>\n");
            foreach (var (kind, count) in ordered.Take(ReportLimits.ErrorKinds))
            {
                Raw("<tr><td>").Text(kind, ReportLimits.MaxNameChars).Raw("</td><td class=\"n\">").Raw(N(count)).Raw("</td><td><ul class=\"examples\">");
                if (examples.TryGetValue(ReportSampler.Truncate(kind, ReportLimits.MaxNameChars), out var sampled))
                {
                    foreach (var example in sampled.Examples.Take(ReportLimits.ErrorExamplesPerKind))
                    {
                        Raw("<li><code>").Text(example.Path, ReportLimits.MaxPathChars).Raw("</code> <span class=\"muted\">").Text(example.Message, ReportLimits.MaxTextChars).Raw("</span></li>");
                    }
                }

                Raw("</ul></td></tr>\n");
            }

            var rest = ordered.Skip(ReportLimits.ErrorKinds).ToList();
            if (rest.Count > 0)
            {
                Raw("<tr><td class=\"muted\">").Raw(N(rest.Count)).Raw(" more kinds</td><td class=\"n\">").Raw(N(rest.Sum(k => k.Count))).Raw("</td><td></td></tr>\n");
            }

            Raw("</tbody></table>\n");
            Close();
        }

        private void Histogram()
        {
            Open("histogram", "Top-1 histogram");
            var classes = summary.Top1Histogram.Count > 0
                ? summary.Top1Histogram.OrderByDescending(c => c.Count).ThenBy(c => c.Index).ToList()
                : samples.Classes.Select(c => new ClassCount(c.Index, c.Name, c.Count)).ToList();
            if (classes.Count == 0)
            {
                Raw("<p class=\"note\">No image was classified.</p>\n");
                Close();
                return;
            }

            var total = classes.Sum(c => c.Count);
            var shown = classes.Take(ReportLimits.HistogramBars).ToList();
            var others = classes.Skip(ReportLimits.HistogramBars).ToList();
            var othersCount = others.Sum(c => c.Count);
            var scale = Math.Max(1, Math.Max(shown[0].Count, othersCount));
            Raw("<p class=\"note\">").Raw(N(classes.Count)).Raw(classes.Count == 1 ? " class" : " classes").Raw(" predicted for ").Raw(N(total)).Raw(" images.</p>\n<div class=\"bars\">\n");
            foreach (var entry in shown)
            {
                Bar(entry.Name, entry.Index.ToString(CultureInfo.InvariantCulture), entry.Count, total, scale, other: false);
            }

            if (others.Count > 0)
            {
                Bar($"{N(others.Count)} other classes", null, othersCount, total, scale, other: true);
            }

            Raw("</div>\n");
            Close();
        }

        private void Bar(string name, string? index, long count, long total, long scale, bool other)
        {
            Raw("<span title=\"").Text(name, ReportLimits.MaxNameChars).Raw("\">").Text(name, ReportLimits.MaxNameChars);
            if (index is not null)
            {
                Raw(" <span class=\"muted\">").Raw(index).Raw("</span>");
            }

            Raw("</span><span class=\"bar").Raw(other ? " other" : "").Raw("\"><i style=\"width:")
                .Raw((100.0 * count / scale).ToString("0.##", CultureInfo.InvariantCulture)).Raw("%\"></i></span><span class=\"n\">")
                .Raw(N(count)).Raw(" · ").Raw(Percent(count, total)).Raw("</span>\n");
        }

        private void Gallery(ClassSamples gallery)
        {
            Raw("<h3>").Text(gallery.Name, ReportLimits.MaxNameChars).Raw(" <span class=\"muted\">class ").Raw(N(gallery.Index)).Raw(" · ")
                .Raw(N(gallery.Count)).Raw(gallery.Count == 1 ? " image" : " images").Raw(" · ").Raw(N(gallery.Samples.Count)).Raw(" shown</span></h3>\n<div class=\"grid\">\n");
            foreach (var sample in gallery.Samples.Take(ReportLimits.ThumbnailsPerClass))
            {
                Tile(sample, null);
            }

            Raw("</div>\n");
        }

        private void GalleriesEnd()
        {
            var classes = samples.Classes.Count;
            if (classes == 0)
            {
                Raw("<p class=\"note\">No image was classified.</p>\n");
            }
            else
            {
                Raw("<p class=\"note\">Up to ").Raw(N(ReportLimits.ThumbnailsPerClass)).Raw(" images, sampled uniformly, of each of the ")
                    .Raw(N(Math.Min(classes, ReportLimits.GalleryClasses))).Raw(" most frequent top-1 classes").Raw(classes > ReportLimits.GalleryClasses ? $" (of {N(classes)})" : "").Raw(".</p>\n");
            }

            Close();
        }

        private void LowConfidence()
        {
            Open("low-confidence", "Lowest confidence");
            var lowest = samples.LowConfidence;
            if (lowest.Count == 0)
            {
                Raw("<p class=\"note\">No image was classified.</p>\n");
            }
            else
            {
                Raw("<p class=\"note\">The ").Raw(N(lowest.Count)).Raw(" images whose top-1 probability is lowest, lowest first.</p>\n<div class=\"grid\">\n");
                foreach (var sample in lowest.Take(ReportLimits.LowConfidence))
                {
                    Tile(sample, null);
                }

                Raw("</div>\n");
            }

            Close();
        }

        private void Evaluation()
        {
            Open("evaluation", "Evaluation against labels");
            if (summary.Evaluation is not { } evaluation)
            {
                Raw("<p class=\"note\">The dataset carried no labels: accuracy, calibration and confusions need labelled images.</p>\n");
                Close();
                return;
            }

            Raw("<div class=\"cards\">\n");
            Card("Top-1 accuracy", Percent(evaluation.Top1), null, $"{N(evaluation.Evaluated)} images evaluated");
            Card($"Top-{evaluation.TopK} accuracy", Percent(evaluation.Top5), null, null);
            Card("Expected calibration error", evaluation.ExpectedCalibrationError.ToString("0.0000", CultureInfo.InvariantCulture), null,
                $"over {N(Math.Min(evaluation.Calibration.Count, ReportLimits.CalibrationBins))} confidence bins");
            Card("Labelled", N(evaluation.Labelled), evaluation.Errors > 0 ? "warn" : null, evaluation.Errors > 0 ? $"{N(evaluation.Errors)} not evaluated: {evaluation.DescribeErrors()}" : null);
            Raw("</div>\n");
            Calibration(evaluation.Calibration);
            PerClass(evaluation.PerClass);
            Close();
        }

        private void Calibration(IReadOnlyList<CalibrationBin> bins)
        {
            if (bins.Count == 0)
            {
                return;
            }

            Raw("<h3>Calibration</h3>\n<table><thead><tr><th>Confidence</th><th class=\"n\">Images</th><th class=\"n\">Mean confidence</th><th class=\"n\">Accuracy</th><th>Accuracy (bar) and mean confidence (line)</th></tr></thead><tbody>\n");
            foreach (var bin in bins.Take(ReportLimits.CalibrationBins))
            {
                Raw("<tr><td>").Raw(bin.From.ToString("0.00", CultureInfo.InvariantCulture)).Raw("–").Raw(bin.To.ToString("0.00", CultureInfo.InvariantCulture))
                    .Raw("</td><td class=\"n\">").Raw(N(bin.Count)).Raw("</td>");
                if (bin.Count == 0)
                {
                    // An empty bin has no confidence or accuracy to show.
                    Raw("<td class=\"n\">–</td><td class=\"n\">–</td><td></td></tr>\n");
                    continue;
                }

                Raw("<td class=\"n\">").Raw(Percent(bin.MeanConfidence)).Raw("</td><td class=\"n\">").Raw(Percent(bin.Accuracy))
                    .Raw("</td><td style=\"width:40%\"><span class=\"bar reliability\"><i style=\"width:").Raw(Width(bin.Accuracy))
                    .Raw("%\"></i><b style=\"left:").Raw(Width(bin.MeanConfidence)).Raw("%\"></b></span></td></tr>\n");
            }

            Raw("</tbody></table>\n");
        }

        private void PerClass(IReadOnlyList<ClassMetrics> classes)
        {
            if (classes.Count == 0)
            {
                return;
            }

            var listed = classes.OrderBy(c => c.Recall).ThenByDescending(c => c.Support).ThenBy(c => c.Index).Take(ReportLimits.PerClassRows).ToList();
            Raw("<h3>Per-class precision and recall <span class=\"muted\">")
                .Raw(classes.Count > listed.Count ? $"the {N(listed.Count)} classes with the lowest recall, of {N(classes.Count)}" : $"{N(classes.Count)} classes, lowest recall first")
                .Raw("</span></h3>\n<table><thead><tr><th>Class</th><th class=\"n\">Images</th><th class=\"n\">Predicted</th><th class=\"n\">Correct</th><th class=\"n\">Precision</th><th class=\"n\">Recall</th></tr></thead><tbody>\n");
            foreach (var metrics in listed)
            {
                Raw("<tr><td>").Text(metrics.Name, ReportLimits.MaxNameChars).Raw(" <span class=\"muted\">").Raw(N(metrics.Index)).Raw("</span></td><td class=\"n\">")
                    .Raw(N(metrics.Support)).Raw("</td><td class=\"n\">").Raw(N(metrics.Predicted)).Raw("</td><td class=\"n\">").Raw(N(metrics.Correct))
                    .Raw("</td><td class=\"n\">").Raw(Percent(metrics.Precision)).Raw("</td><td class=\"n\">").Raw(Percent(metrics.Recall)).Raw("</td></tr>\n");
            }

            // The macro averages cover every class, listed or not.
            Raw("<tr><th>Macro average of ").Raw(N(classes.Count)).Raw(classes.Count == 1 ? " class" : " classes").Raw("</th><td class=\"n\">").Raw(N(classes.Sum(c => c.Support)))
                .Raw("</td><td class=\"n\">").Raw(N(classes.Sum(c => c.Predicted))).Raw("</td><td class=\"n\">").Raw(N(classes.Sum(c => c.Correct)))
                .Raw("</td><td class=\"n\">").Raw(Percent(classes.Average(c => c.Precision))).Raw("</td><td class=\"n\">").Raw(Percent(classes.Average(c => c.Recall))).Raw("</td></tr>\n");
            Raw("</tbody></table>\n");
        }

        /// <summary>The pairs the evaluation found most confused (counts over every record), else the sampler's.</summary>
        private List<PairSamples> ConfusedPairs() =>
            summary.Evaluation is { MostConfused.Count: > 0 } evaluation
                ? evaluation.MostConfused
                    .Take(ReportLimits.ConfusedPairs)
                    .Select(p => samples.ConfusedExamples(p.Actual, p.Predicted) is { Count: > 0 } sampled
                        ? new PairSamples(p.Actual, p.Predicted, p.Count, sampled)
                        // Not tracked by the sampler: the evaluation's example paths, without thumbnails.
                        : new PairSamples(p.Actual, p.Predicted, p.Count, p.Examples
                            .Take(ReportLimits.ExamplesPerPair)
                            .Select(path => new ReportSample(path, p.Actual, new PredictedClass(p.Predicted, p.PredictedName, float.NaN), null))
                            .ToList()))
                    .ToList()
                : samples.ConfusedPairs.Take(ReportLimits.ConfusedPairs).ToList();

        private void Confused(PairSamples pair)
        {
            Raw("<div class=\"pair\"><h3>").Text(ClassName(pair.Actual), ReportLimits.MaxNameChars).Raw(" → ").Text(ClassName(pair.Predicted), ReportLimits.MaxNameChars)
                .Raw(" <span class=\"muted\">").Raw(N(pair.Count)).Raw(pair.Count == 1 ? " image" : " images").Raw("</span></h3>\n<div class=\"grid\">\n");
            foreach (var sample in pair.Samples.Take(ReportLimits.ExamplesPerPair))
            {
                Tile(sample, ClassName(pair.Actual));
            }

            Raw("</div></div>\n");
        }

        private void ConfusedEnd()
        {
            Raw("</div>\n");
            if (summary.Evaluation is null && samples.ConfusedPairs.Count == 0)
            {
                Raw("<p class=\"note\">No labelled image was misclassified (or the dataset carried no labels).</p>\n");
            }
            else if (summary.Evaluation is { MostConfused.Count: 0 })
            {
                Raw("<p class=\"note\">No labelled image was misclassified.</p>\n");
            }

            Close();
        }

        private void Cost()
        {
            Open("cost", "Cost");
            var devices = summary.DeviceSeconds ?? new Dictionary<string, double>();
            var cost = summary.Cost;
            if (devices.Count == 0 && cost is null)
            {
                Raw("<p class=\"note\">The workers reported no device time.</p>\n");
                Close();
                return;
            }

            if (cost is not null)
            {
                Raw("<div class=\"cards\">\n");
                Card("Total", Money(cost.Total), null, null);
                Card("Per 1,000 images", Money(cost.Per1000Images), null, $"{N(summary.ImagesOk)} images classified");
                Raw("</div>\n");
            }

            var kinds = devices.Keys.Concat(cost?.PricePerHour.Keys ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            Raw("<h3>Device time</h3>\n<table><thead><tr><th>Device</th><th class=\"n\">Device-seconds</th><th class=\"n\">Price per hour</th><th class=\"n\">Cost</th></tr></thead><tbody>\n");
            foreach (var kind in kinds.Take(ReportLimits.ListEntries))
            {
                var seconds = devices.GetValueOrDefault(kind);
                double? price = cost is not null && cost.PricePerHour.TryGetValue(kind, out var perHour) ? perHour : null;
                Raw("<tr><td>").Text(kind, ReportLimits.MaxNameChars).Raw("</td><td class=\"n\">").Raw(seconds.ToString("#,0.0", CultureInfo.InvariantCulture))
                    .Raw("</td><td class=\"n\">").Raw(price is { } p ? Money(p) : "–").Raw("</td><td class=\"n\">").Raw(price is { } q ? Money(seconds / 3600 * q) : "–").Raw("</td></tr>\n");
            }

            More(kinds.Count - ReportLimits.ListEntries, "more device kinds", 4);
            Raw("</tbody></table>\n");
            Close();
        }

        private void Tail()
        {
            Raw("</main>\n<footer>Sampled from ").Raw(N(samples.Records)).Raw(" records. Galleries are fixed-size samples; counts cover every record.</footer>\n</body>\n</html>\n");
        }

        /// <summary>One image: its thumbnail (or a placeholder) and a caption with its path and prediction;
        /// <paramref name="actual"/> is the label's name of a confused pair.</summary>
        private void Tile(ReportSample sample, string? actual)
        {
            var fileName = FileName(sample.Path);
            Raw("<figure class=\"tile\">");
            if (sample.Thumbnail is { Length: > 0 and <= ReportLimits.MaxThumbnailBytes } jpeg)
            {
                Raw("<img class=\"thumb\" width=\"96\" height=\"96\" alt=\"").Text(sample.Top1.Name, ReportLimits.MaxNameChars).Raw(": ").Text(fileName, 64)
                    .Raw("\" data-path=\"").Text(sample.Path, ReportLimits.MaxPathChars).Raw("\" src=\"data:image/jpeg;base64,");
                Html.Append(Convert.ToBase64String(jpeg));
                Raw("\">");
            }
            else
            {
                Raw("<div class=\"thumb placeholder\" role=\"img\" aria-label=\"No thumbnail: ").Text(fileName, 64).Raw("\" data-path=\"").Text(sample.Path, ReportLimits.MaxPathChars)
                    .Raw("\">no preview</div>");
            }

            Raw("<figcaption><span class=\"path\" title=\"").Text(sample.Path, ReportLimits.MaxPathChars).Raw("\">").Text(fileName, 48).Raw("</span><span>");
            if (actual is not null)
            {
                Text(actual, ReportLimits.MaxNameChars).Raw(" → ");
            }

            Text(sample.Top1.Name, ReportLimits.MaxNameChars);
            if (!float.IsNaN(sample.Top1.Probability) || actual is null)
            {
                Raw(" <b>").Raw(Percent(sample.Top1.Probability)).Raw("</b>");
            }

            Raw("</span></figcaption></figure>\n");
        }

        private void Card(string key, string value, string? valueClass, string? detail)
        {
            Raw("<div class=\"card\"><div class=\"k\">").Text(key, ReportLimits.MaxNameChars).Raw("</div><div class=\"v");
            if (valueClass is not null)
            {
                Raw(" ").Raw(valueClass);
            }

            Raw("\">").Text(value, ReportLimits.MaxTextChars).Raw("</div>");
            if (detail is not null)
            {
                Raw("<div class=\"d\">").Text(detail, ReportLimits.MaxPathChars).Raw("</div>");
            }

            Raw("</div>\n");
        }

        private void More(int count, string what, int columns)
        {
            if (count > 0)
            {
                Raw("<tr><td class=\"muted\" colspan=\"").Raw(N(columns)).Raw("\">").Raw(N(count)).Raw(" ").Raw(what).Raw("</td></tr>\n");
            }
        }

        private Page Open(string id, string heading) => Raw("<section id=\"").Raw(id).Raw("\">\n<h2>").Raw(heading).Raw("</h2>\n");

        private void Close() => Raw("</section>\n");

        private string ClassName(int index) => _classNames.TryGetValue(index, out var name) ? name : $"class {index}";

        private Page Raw(string html)
        {
            Html.Append(html);
            return this;
        }

        /// <summary>Appends <paramref name="value"/> cut to <paramref name="max"/> characters and HTML-encoded for text
        /// and quoted attributes alike; control characters and lone surrogates become U+FFFD. No character takes more
        /// than six bytes.</summary>
        private Page Text(string value, int max = ReportLimits.MaxTextChars)
        {
            var text = ReportSampler.Truncate(value, max);
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                switch (c)
                {
                    case '&': Html.Append("&amp;"); break;
                    case '<': Html.Append("&lt;"); break;
                    case '>': Html.Append("&gt;"); break;
                    case '"': Html.Append("&quot;"); break;
                    case '\'': Html.Append("&#39;"); break;
                    case < ' ' or (>= '\u007F' and <= '\u009F'):
                        Html.Append('\uFFFD');
                        break;
                    default:
                        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                        {
                            Html.Append(c).Append(text[++i]);
                        }
                        else
                        {
                            Html.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
                        }

                        break;
                }
            }

            return this;
        }

        private static Dictionary<int, string> ClassNames(JobSummary summary, ReportSampler samples)
        {
            var names = new Dictionary<int, string>();
            foreach (var metrics in summary.Evaluation?.PerClass ?? [])
            {
                names.TryAdd(metrics.Index, metrics.Name);
            }

            foreach (var pair in summary.Evaluation?.MostConfused ?? [])
            {
                names.TryAdd(pair.Actual, pair.ActualName);
                names.TryAdd(pair.Predicted, pair.PredictedName);
            }

            foreach (var entry in summary.Top1Histogram)
            {
                names.TryAdd(entry.Index, entry.Name);
            }

            foreach (var entry in samples.Classes)
            {
                names.TryAdd(entry.Index, entry.Name);
            }

            return names;
        }
    }

    private static string FileName(string path)
    {
        var slash = path.LastIndexOfAny(['/', '\\']);
        return slash >= 0 && slash < path.Length - 1 ? path[(slash + 1)..] : path;
    }

    /// <summary>"CompletedWithErrors" → "Completed with errors".</summary>
    private static string Status(JobStatus status) =>
        string.Concat(status.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? $" {char.ToLowerInvariant(c)}" : c.ToString()));

    private static string N(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Join(IReadOnlyList<string> values) =>
        string.Join(", ", values.Take(ReportLimits.ListEntries).Select(v => ReportSampler.Truncate(v, ReportLimits.MaxNameChars)));

    private static string Percent(double fraction) =>
        double.IsFinite(fraction) ? (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–";

    private static string Percent(long part, long whole) => whole > 0 ? Percent((double)part / whole) : "–";

    private static string Width(double fraction) =>
        double.IsFinite(fraction) ? Math.Clamp(fraction * 100, 0, 100).ToString("0.##", CultureInfo.InvariantCulture) : "0";

    private static string Money(double amount) => amount.ToString(amount is > 0 and < 1 ? "0.0000" : "#,0.00", CultureInfo.InvariantCulture);

    private static string Duration(double seconds) => seconds switch
    {
        < 60 => seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
        < 3600 => $"{(int)(seconds / 60)} min {(int)(seconds % 60):00} s",
        _ => $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60):00} min",
    };
}
