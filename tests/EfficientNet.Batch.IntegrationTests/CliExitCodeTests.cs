using System.Reflection;
using System.Text.RegularExpressions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>The exit-code contract of README's table, for what a user gets wrong: each case exits with its code,
/// prints a line naming the problem in the user's terms, and prints no stack frame. No service is involved: the
/// coordinator address is a local port that refuses connections.</summary>
public sealed class CliExitCodeTests : IDisposable
{
    private const string Unreachable = "http://127.0.0.1:9";

    private readonly string _work = Directory.CreateTempSubdirectory("effnet-exit-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Work(string name) => Path.Combine(_work, name);

    private Task AssertExitAsync(int expected, string named, params string[] args) =>
        AssertExitWithAsync(new Dictionary<string, string>(), expected, named, args);

    private async Task AssertExitWithAsync(Dictionary<string, string> environment, int expected, string named, params string[] args)
    {
        environment["EFFNET_MODELS"] = Work("models");
        environment["EFFNET_CHECKPOINT_MIRROR"] = "http://127.0.0.1:9/";
        var (exitCode, stdout, stderr) = await Effnet.RunAsync(environment, args);

        Assert.True(exitCode == expected, $"effnet {string.Join(' ', args)}: exit {exitCode}, expected {expected}: {stdout}{stderr}");
        Assert.Contains(named, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public Task A_setting_from_the_environment_applies_and_a_bad_one_is_2_naming_it() =>
        // The command's host reads environment variables (`Section__Key`) as the hosts do.
        AssertExitWithAsync(
            new Dictionary<string, string> { ["Inference__BatchSize"] = "0" },
            2, "BatchSize", "run", TestPaths.Samples, "--model", "efficientnet_b0", "--random-weights", "--out", Work("o"));

    [Fact]
    public Task An_unknown_command_is_2() => AssertExitAsync(2, "'rnu'", "rnu", TestPaths.Samples);

    [Fact]
    public Task A_missing_required_option_is_2() => AssertExitAsync(2, "--model", "run", TestPaths.Samples, "--out", Work("o"));

    [Fact]
    public Task A_dataset_that_does_not_exist_is_2_and_says_so() =>
        AssertExitAsync(2, "does not exist", "run", Work("no-such-folder"), "--model", "efficientnet_b0", "--random-weights", "--out", Work("o"));

    [Fact]
    public Task A_dataset_without_images_is_2() =>
        AssertExitAsync(2, "holds no images", "run", Directory.CreateDirectory(Work("empty")).FullName, "--model", "efficientnet_b0", "--random-weights", "--out", Work("o"));

    [Fact]
    public async Task An_out_that_is_a_file_is_2()
    {
        await File.WriteAllTextAsync(Work("taken"), "not a folder");
        await AssertExitAsync(2, "--out", "run", TestPaths.Samples, "--model", "efficientnet_b0", "--random-weights", "--out", Work("taken"));
    }

    [Theory]
    [InlineData("--batch-size", "0")]
    [InlineData("--top", "0")]
    [InlineData("--decode-threads", "0")]
    [InlineData("--shard-size", "0")]
    public Task An_option_out_of_range_is_2_naming_the_option_as_typed(string option, string value) =>
        AssertExitAsync(2, $"{option} must be between", "run", TestPaths.Samples, "--model", "efficientnet_b0", "--random-weights", "--out", Work("o"), option, value);

    [Fact]
    public Task An_unknown_output_format_is_2() =>
        AssertExitAsync(2, "unknown format 'xlsx'", "run", TestPaths.Samples, "--model", "efficientnet_b0", "--random-weights", "--out", Work("o"), "--format", "xlsx");

    [Fact]
    public Task An_unknown_model_is_2() =>
        AssertExitAsync(2, "resnet50", "run", TestPaths.Samples, "--model", "resnet50", "--random-weights", "--out", Work("o"));

    [Fact]
    public Task Classify_given_a_folder_is_2_and_points_at_run() =>
        AssertExitAsync(2, "effnet run", "classify", TestPaths.Samples, "--model", "efficientnet_b0", "--random-weights");

    [Fact]
    public Task Submit_to_an_unreachable_coordinator_is_5() =>
        AssertExitAsync(5, "cannot reach the coordinator", "submit", TestPaths.Samples, "--model", "efficientnet_b0", "--coordinator", Unreachable);

    [Fact]
    public Task Status_from_an_unreachable_coordinator_is_5() =>
        AssertExitAsync(5, "cannot reach the coordinator", "status", Guid.NewGuid().ToString(), "--coordinator", Unreachable);

    [Fact]
    public Task Weights_that_cannot_be_pulled_are_3() =>
        AssertExitAsync(3, "efficientnet_b0", "run", TestPaths.Samples, "--model", "efficientnet_b0", "--out", Work("o"));

    [Fact]
    public async Task A_damaged_stored_model_is_3_naming_the_file_and_the_repair()
    {
        await AssertExitAsync(
            0, "", "models", "import", CustomClassesFiles.WriteCheckpoint(_work), "--model", "pets", "--arch", "b0",
            "--classes", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds));
        var onnx = Path.Combine(Work("models"), "pets", "model.onnx");
        await using (var file = new FileStream(onnx, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length - 1024);
        }

        await AssertExitAsync(3, onnx, ["classify", .. CustomClassesFiles.Photos, "--model", "pets"]);
        await AssertExitAsync(3, "import the model again", "run", TestPaths.Samples, "--model", "pets", "--out", Work("o"));
    }

    [Fact]
    public async Task An_out_with_other_files_is_2_unless_overwrite_which_leaves_them()
    {
        var output = Directory.CreateDirectory(Work("busy")).FullName;
        await File.WriteAllTextAsync(Path.Combine(output, "notes.txt"), "mine");
        var dataset = ThreePhotos();

        await AssertExitAsync(2, "is not empty", "run", dataset, "--model", "efficientnet_b0", "--random-weights", "--out", output);
        await AssertExitAsync(0, "", "run", dataset, "--model", "efficientnet_b0", "--random-weights", "--out", output, "--overwrite");

        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(output, "notes.txt")));
        Assert.True(File.Exists(Path.Combine(output, "summary.json")));
    }

    [Fact]
    public async Task An_out_holding_another_models_run_is_2_unless_overwrite_which_replaces_it()
    {
        var output = Work("models-out");
        var dataset = ThreePhotos();
        await AssertExitAsync(0, "", "run", dataset, "--model", "efficientnet_b0", "--random-weights", "--out", output, "--format", "csv");

        await AssertExitAsync(2, "holds a run of model efficientnet_b0", "run", dataset, "--model", "efficientnet_es", "--random-weights", "--out", output);
        await AssertExitAsync(0, "", "run", dataset, "--model", "efficientnet_es", "--random-weights", "--out", output, "--overwrite");

        var summary = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "summary.json")))!;
        Assert.Equal("efficientnet_es", summary["model"]!["id"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(output, "predictions.csv")), "the earlier run's CSV was left beside the new run");
    }

    [Fact]
    public Task Status_of_a_job_id_that_is_not_a_guid_is_2() =>
        AssertExitAsync(2, "not-a-job", "status", "not-a-job", "--coordinator", Unreachable);

    [Fact]
    public Task Schedules_from_an_unreachable_coordinator_is_5() =>
        AssertExitAsync(5, "cannot reach the coordinator", "schedules", "list", "--coordinator", Unreachable);

    [Fact]
    public Task Evaluate_of_predictions_that_do_not_exist_is_2_naming_the_file() =>
        AssertExitAsync(2, Work("none.jsonl"), "evaluate", Work("none.jsonl"), "--labels", Path.Combine(TestPaths.Samples, "labels.csv"));

    [Fact]
    public Task Importing_a_file_that_does_not_exist_is_2_naming_it() =>
        AssertExitAsync(2, Work("none.pth"), "models", "import", Work("none.pth"), "--model", "efficientnet_b0");

    [Fact]
    public async Task Importing_a_file_that_is_no_checkpoint_is_6()
    {
        await File.WriteAllBytesAsync(Work("garbage.pth"), [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);
        await AssertExitAsync(6, "garbage.pth", "models", "import", Work("garbage.pth"), "--model", "efficientnet_b0");
    }

    [Fact]
    public Task Pulling_a_model_the_zoo_does_not_have_is_2() =>
        AssertExitAsync(2, "resnet50", "models", "pull", "resnet50");

    [Fact]
    public Task Bench_over_a_folder_that_does_not_exist_is_2() =>
        AssertExitAsync(2, Work("no-images"), "bench", "--model", "efficientnet_b0", "--random-weights", "--images", Work("no-images"));

    [Fact]
    public Task Storage_copy_from_a_source_that_does_not_exist_is_2_and_says_so() =>
        AssertExitAsync(2, $"SOURCE {Work("no-source")} does not exist", "storage", "copy", Work("no-source"), Work("dest"));

    [Fact]
    public Task Storage_copy_with_parallelism_0_is_2_naming_the_option() =>
        AssertExitAsync(2, "--parallelism must be between 1 and 64", "storage", "copy", TestPaths.Samples, Work("dest"), "--parallelism", "0");

    [Fact]
    public async Task Good_input_is_0_for_classify_evaluate_models_list_and_storage_copy_which_leaves_only_the_copies()
    {
        var photos = ThreePhotos();
        await AssertExitAsync(0, "", ["classify", .. CustomClassesFiles.Photos, "--model", "efficientnet_b0", "--random-weights"]);
        await AssertExitAsync(0, "", "models", "list");
        await AssertExitAsync(0, "copied 3 objects", "storage", "copy", photos, Work("copied"));
        Assert.Equal(
            Directory.GetFiles(photos).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Directory.EnumerateFileSystemEntries(Work("copied")).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        await AssertExitAsync(0, "", "run", photos, "--model", "efficientnet_b0", "--random-weights", "--out", Work("evaluated"));
        var labels = Work("labels.csv");
        await File.WriteAllLinesAsync(labels, ["path,label", .. Directory.GetFiles(photos).Select(p => $"{Path.GetFileName(p)},1")]);
        await AssertExitAsync(0, "", "evaluate", Path.Combine(Work("evaluated"), "predictions.jsonl"), "--labels", labels);
    }

    private string ThreePhotos()
    {
        var dataset = Directory.CreateDirectory(Work("three")).FullName;
        foreach (var photo in CustomClassesFiles.Photos)
        {
            var target = Path.Combine(dataset, Path.GetFileName(photo));
            if (!File.Exists(target))
            {
                File.Copy(photo, target);
            }
        }

        return dataset;
    }

    [Fact]
    public void The_README_exit_code_table_lists_every_code_the_CLI_defines_and_no_other()
    {
        var cli = Assembly.LoadFrom(Path.Combine(Path.GetDirectoryName(TestPaths.HostAssembly("EfficientNet.Batch.Cli"))!, "effnet.dll"));
        var defined = cli.GetType("EfficientNet.Batch.Cli.ExitCodes", throwOnError: true)!
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (int)f.GetRawConstantValue()!)
            .Order()
            .ToList();
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var table = readme[readme.IndexOf("Exit codes, the same for every command:", StringComparison.Ordinal)..];
        var documented = Regex.Matches(table[..table.IndexOf("\n\n", table.IndexOf("| code |", StringComparison.Ordinal), StringComparison.Ordinal)], @"^\| (\d+) \|", RegexOptions.Multiline)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Order()
            .ToList();

        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 130], defined);
        Assert.Equal(defined, documented);
    }
}
