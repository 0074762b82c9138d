using System.Text;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>
/// Records that exercise what a file format can get wrong (separators, quotes and line breaks in paths, class names
/// and messages; leading and trailing whitespace; emoji and CJK; a 1 KB path; no label; errors; fewer classes than
/// top-k; an empty class list; extreme probabilities), and the plumbing to write them the way the merge does.
/// </summary>
internal static class OutputTestRecords
{
    public const int TopK = 5;

    /// <summary>Paths no format may mangle.</summary>
    public static readonly IReadOnlyList<string> AwkwardPaths =
    [
        "plain/cat.jpg",
        "with,comma/dog, brown.jpg",
        "quote\"inside/\"quoted\".png",
        "new\nline.jpg",
        "crlf\r\nline.jpg",
        "lone\rcarriage-return.jpg",
        "tab\there.jpg",
        "\tleading-tab.jpg",
        "  leading spaces.jpg",
        "trailing spaces.jpg  ",
        " \"both\", all of it \r\n ",
        "emoji 🐈‍⬛ and 🦊.jpg",
        "日本語/猫の写真.jpeg",
        "Ünïcödé/straße/ﬁ.png",
        "semi;colon|pipe.jpg",
        "=SUM(A1)+formula.jpg",
        "#not-a-comment.jpg",
        "back\\slash\\dir.jpg",
        "'single quotes'.jpg",
        string.Join('/', Enumerable.Repeat("a-rather-deep-folder", 50)) + "/image.jpg",
    ];

    private static readonly string[] ClassNames =
    [
        "tench, Tinca tinca",
        "great white shark",
        "\"quoted\" class",
        "crème brûlée",
        "猫",
        "two\nlines",
        " padded ",
        "comma,separated,name",
        "🦊 fox",
    ];

    private static readonly float[] SpecialProbabilities =
        [0f, 1f, float.Epsilon, 1e-8f, 0.1f, 1f / 3, 0.99999994f, 1.17549435e-38f, 0.5f, 2.5e-3f];

    private static readonly string[] ErrorKinds = ["corrupt", "too-large", "not-found", "unsupported"];

    private static readonly string[] ErrorMessages =
    [
        "truncated JPEG",
        "Marker 0xFFD9 missing, \"EOI\" expected\nat byte 1,024",
        "image is 40000×40000 pixels; the limit is 16384\r\n(too large)",
        " leading space and trailing tab\t",
        "ファイルが見つかりません",
    ];

    /// <summary><paramref name="count"/> deterministic records: the awkward paths first, then mixes of them.</summary>
    public static IReadOnlyList<PredictionRecord> Varied(int count = 500, int topK = TopK)
    {
        var random = new Random(20_261_129);
        var records = new List<PredictionRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var path = i < AwkwardPaths.Count ? AwkwardPaths[i] : $"batch {i / 100}/{i:D4} {AwkwardPaths[i % AwkwardPaths.Count]}";
            int? label = i % 3 == 0 ? null : random.Next(0, 1000);
            if (i % 7 == 3)
            {
                records.Add(PredictionRecord.Failure(path, label, ErrorKinds[i % ErrorKinds.Length], ErrorMessages[i % ErrorMessages.Length]));
                continue;
            }

            var classes = i % 11 == 5 ? 1 + (i % (topK - 1)) : i % 29 == 13 ? 0 : topK;
            var top = new PredictedClass[classes];
            for (var k = 0; k < classes; k++)
            {
                var probability = (i + k) % 4 == 0 ? SpecialProbabilities[(i + k) % SpecialProbabilities.Length] : random.NextSingle();
                top[k] = new PredictedClass(random.Next(0, 1000), ClassNames[(i + k) % ClassNames.Length], probability);
            }

            records.Add(new PredictionRecord
            {
                Path = path,
                Label = label,
                Top = top,
                // Shard results carry these; no output may.
                Fingerprint = new ImageFingerprint($"etag-{i}", null, 1234 + i, DateTimeOffset.UnixEpoch.AddSeconds(i)),
                Thumbnail = i % 5 == 0 ? "/9j/4AAQSkZJRgABAQ==" : null,
            });
        }

        return records;
    }

    /// <summary>Writes <paramref name="records"/> with <paramref name="format"/> as the merge does (every record,
    /// then complete, then dispose) into a file, which stays open until then as the merge's spool file does.</summary>
    public static async Task WriteFileAsync(IOutputFormat format, IEnumerable<PredictionRecord> records, string path, int topK = TopK)
    {
        await using var destination = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (var writer = format.Create(new OutputContext(destination, topK)))
        {
            foreach (var record in records)
            {
                await writer.WriteAsync(record, CancellationToken.None);
            }

            await writer.CompleteAsync(Summary, CancellationToken.None);
        }

        // The writer must leave the destination open: the merge still flushes and publishes it.
        Assert.True(destination.CanWrite, $"{format.Name}: the writer closed its destination.");
    }

    /// <summary>The records as predictions.jsonl gives them back: what every other format is compared with.</summary>
    public static async Task<IReadOnlyList<PredictionRecord>> ThroughJsonlAsync(IReadOnlyList<PredictionRecord> records)
    {
        using var file = new TempFolder();
        var path = file.PathOf("predictions.jsonl");
        await WriteFileAsync(new JsonlOutputFormat(), records, path);
        var lines = (await File.ReadAllTextAsync(path, Encoding.UTF8)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var read = lines.Select(line => PredictionWriter.FromJsonLine(line)!).ToList();
        Assert.Equal(records.Count, read.Count);
        return read;
    }

    /// <summary>Asserts that <paramref name="actual"/>, read back from a format, holds every field of
    /// <paramref name="expected"/>; probabilities compared bit for bit.</summary>
    /// <param name="topNullReadsAsEmpty">The format cannot tell "no classes" from "an empty class list" (CSV).</param>
    public static void AssertSame(PredictionRecord expected, PredictionRecord actual, int row, bool topNullReadsAsEmpty = false)
    {
        var where = $"row {row} ({Escape(expected.Path)})";
        Assert.True(expected.Path == actual.Path, $"{where}: path read back as {Escape(actual.Path)}");
        Assert.True(expected.Label == actual.Label, $"{where}: label {expected.Label} read back as {actual.Label}");
        Assert.True(expected.Error == actual.Error, $"{where}: error {Escape(expected.Error)} read back as {Escape(actual.Error)}");
        Assert.True(expected.ErrorKind == actual.ErrorKind, $"{where}: error kind {expected.ErrorKind} read back as {actual.ErrorKind}");
        var expectedTop = topNullReadsAsEmpty ? expected.Top ?? [] : expected.Top;
        if (expectedTop is null)
        {
            Assert.True(actual.Top is null, $"{where}: a record without classes read back with {actual.Top?.Count} classes");
            return;
        }

        Assert.True(actual.Top is not null, $"{where}: {expectedTop.Count} classes read back as none");
        Assert.True(expectedTop.Count == actual.Top.Count, $"{where}: {expectedTop.Count} classes read back as {actual.Top.Count}");
        for (var k = 0; k < expectedTop.Count; k++)
        {
            var (e, a) = (expectedTop[k], actual.Top[k]);
            Assert.True(e.Index == a.Index, $"{where}, class {k}: index {e.Index} read back as {a.Index}");
            Assert.True(e.Name == a.Name, $"{where}, class {k}: name {Escape(e.Name)} read back as {Escape(a.Name)}");
            Assert.True(
                BitConverter.SingleToInt32Bits(e.Probability) == BitConverter.SingleToInt32Bits(a.Probability),
                $"{where}, class {k}: probability {e.Probability:R} read back as {a.Probability:R}");
        }
    }

    public static JobSummary Summary { get; } = new()
    {
        JobId = Guid.Parse("0b7e4c1a-52d3-4f0e-9a61-3c5d2e8f7a90"),
        Status = JobStatus.Completed,
        Model = new SummaryModel("efficientnet_b0", "b0", "standard", 224, "imagenet", [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]),
        Weights = "untrained (random weights, seed 0)",
        Untrained = true,
        ExecutionProviders = ["CPUExecutionProvider"],
        Precisions = ["Float32"],
        Dataset = "/data/photos",
        Predictions = "/data/out/predictions.jsonl",
        ImagesTotal = 0,
        ImagesOk = 0,
        ImagesFailed = 0,
        ErrorsByKind = new Dictionary<string, long>(),
        SkippedFiles = 0,
        Shards = 1,
        FailedShards = [],
        ShardsByWorker = new Dictionary<string, int>(),
        SubmittedAt = DateTimeOffset.UnixEpoch,
        CompletedAt = DateTimeOffset.UnixEpoch.AddSeconds(1),
        WallSeconds = 1,
        ImagesPerSecond = 0,
        Top1Histogram = [],
    };

    private static string Escape(string? text) =>
        text is null ? "null" : System.Text.Json.JsonSerializer.Serialize(text);
}

/// <summary>A temporary folder, deleted with what it holds.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"effnet-outputs-{Guid.NewGuid():N}");

    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
