using System.Diagnostics;
using System.Text.Json.Nodes;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet run</c> over an output that already holds a run: unchanged images keep their records, an
/// interrupted run resumes from its committed shards, and <c>--full</c> classifies everything.</summary>
public sealed class EmbeddedRescoreTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-rescore-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private Dictionary<string, string> Environment => new()
    {
        ["EFFNET_MODELS"] = Path.Combine(_work, "models"),
        ["EFFNET_CHECKPOINT_MIRROR"] = "http://127.0.0.1:9/",
    };

    private string Dataset(int skip, int count)
    {
        var dataset = Path.Combine(_work, "dataset");
        Directory.CreateDirectory(dataset);
        foreach (var photo in Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Skip(skip).Take(count))
        {
            File.Copy(photo, Path.Combine(dataset, Path.GetFileName(photo)));
        }

        return dataset;
    }

    private static JsonNode Incremental(string output) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!["incremental"]!;

    private static List<string> PredictedPaths(string output) =>
        [.. File.ReadAllLines(Path.Combine(output, "predictions.jsonl")).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!["path"]!.GetValue<string>())];

    [Fact]
    public async Task A_second_run_into_the_same_output_reuses_every_record_and_full_classifies_again()
    {
        var dataset = Dataset(600, 20);
        var output = Path.Combine(_work, "out");
        string[] run = ["run", dataset, "--model", "efficientnet_b0", "--random-weights", "--seed", "4", "--out", output, "--shard-size", "8"];

        var first = await Effnet.RunAsync(Environment, run);
        Assert.True(first.ExitCode == 0, first.Error);
        var predictions = File.ReadAllText(Path.Combine(output, "predictions.jsonl"));

        var second = await Effnet.RunAsync(Environment, run);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Equal(0, Incremental(output)["classified"]!.GetValue<long>());
        Assert.Equal(20, Incremental(output)["reused"]!.GetValue<long>());
        Assert.Equal(predictions, File.ReadAllText(Path.Combine(output, "predictions.jsonl")));
        Assert.Contains("20 reused", second.Out, StringComparison.Ordinal);
        // No run's shard results remain once it has completed: not one folder per run, not even one.
        Assert.False(Directory.Exists(Path.Combine(output, "shards")), "a completed run left its shard results behind");

        var full = await Effnet.RunAsync(Environment, [.. run, "--full"]);
        Assert.True(full.ExitCode == 0, full.Error);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!["incremental"]);
        Assert.Equal(predictions, File.ReadAllText(Path.Combine(output, "predictions.jsonl")));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_run_killed_at_about_a_third_resumes_and_classifies_only_what_it_had_not_committed()
    {
        const int images = 300;
        var dataset = Dataset(100, images);
        var output = Path.Combine(_work, "out");
        string[] run = ["run", dataset, "--model", "efficientnet_b0", "--random-weights", "--seed", "9", "--out", output, "--shard-size", "10"];

        var cli = Path.Combine(Path.GetDirectoryName(TestPaths.HostAssembly("EfficientNet.Batch.Cli"))!, "effnet.dll");
        var info = new ProcessStartInfo("dotnet", [cli, .. run]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in Environment)
        {
            info.Environment[key] = value;
        }

        using (var process = Process.Start(info)!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (CommittedShards(output).Count < images / 10 / 3)
            {
                Assert.False(process.HasExited, "the run ended before it could be interrupted");
                Assert.True(DateTime.UtcNow < deadline, "the run committed too few shards in 3 minutes");
                await Task.Delay(50);
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.False(File.Exists(Path.Combine(output, "predictions.jsonl")));
        var committed = CommittedShards(output).Sum(f => File.ReadAllLines(f).Count(l => l.Length > 0));
        Assert.InRange(committed, images / 10, images - 1);

        var resumed = await Effnet.RunAsync(Environment, run);

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        var paths = PredictedPaths(output);
        Assert.Equal(images, paths.Count);
        Assert.Equal(Directory.GetFiles(dataset).Select(Path.GetFileName).Order(StringComparer.Ordinal), paths.Order(StringComparer.Ordinal));
        var incremental = Incremental(output);
        Assert.Equal(committed, incremental["reused"]!.GetValue<long>());
        Assert.Equal(images - committed, incremental["classified"]!.GetValue<long>());
        // The killed run's shards are merged into the resumed run's outputs, and then removed with its own. Only a
        // temporary file the kill cut off mid-write may stay behind, hidden (.~effnet-tmp.*, never listed).
        var shards = Path.Combine(output, "shards");
        var left = Directory.Exists(shards)
            ? Directory.EnumerateFiles(shards, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith(EfficientNet.Batch.Storage.BlobKey.ReservedSegmentPrefix, StringComparison.Ordinal))
                .ToList()
            : [];
        Assert.True(left.Count == 0, $"the interrupted run's shard results were left behind: {string.Join(", ", left)}");
    }

    private static List<string> CommittedShards(string output)
    {
        var shards = Path.Combine(output, "shards");
        return Directory.Exists(shards)
            ? [.. Directory.EnumerateFiles(shards, "shard-*.jsonl", SearchOption.AllDirectories).Where(f => !f.EndsWith(".failed.jsonl", StringComparison.Ordinal))]
            : [];
    }
}
