using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet run</c> ends by saying how long after the process started its first batch was classified
/// (README, docs/benchmarks.md *Start-up*); a run that classifies nothing (everything reused) has no such line.</summary>
public sealed partial class RunStartupLineTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-startup-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_run_reports_its_first_batch_after_process_start_and_a_run_that_classifies_nothing_does_not()
    {
        var dataset = Directory.CreateDirectory(Path.Combine(_work, "photos")).FullName;
        foreach (var photo in CustomClassesFiles.Photos)
        {
            File.Copy(photo, Path.Combine(dataset, Path.GetFileName(photo)));
        }

        var environment = new Dictionary<string, string> { ["EFFNET_MODELS"] = Path.Combine(_work, "models") };
        string[] args = ["run", dataset, "--model", "efficientnet_b0", "--random-weights", "--out", Path.Combine(_work, "out")];

        var (exitCode, stdout, stderr) = await Effnet.RunAsync(environment, args);

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        var match = StartupLine().Match(stdout);
        Assert.True(match.Success, $"no start-up line in: {stdout}");
        var seconds = double.Parse(match.Groups["seconds"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 0.01, 180);

        // Everything reused: no batch runs, so there is no first batch to report.
        var (againExit, again, againErrors) = await Effnet.RunAsync(environment, args);

        Assert.True(againExit == 0, $"exit {againExit}: {again}{againErrors}");
        var incremental = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_work, "out", "summary.json")))!["incremental"]!;
        Assert.Equal((0, 3), (incremental["classified"]!.GetValue<int>(), incremental["reused"]!.GetValue<int>()));
        Assert.DoesNotMatch(StartupLine(), again);
    }

    [GeneratedRegex(@"Start-up:\s+first batch classified (?<seconds>\d+\.\d\d) s after the process started")]
    private static partial Regex StartupLine();
}
