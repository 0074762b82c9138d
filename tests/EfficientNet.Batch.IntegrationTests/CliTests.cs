using System.Text.Json.Nodes;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>The <c>effnet</c> command as a user runs it: a separate process, exit codes and output.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-cli-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private Task<(int ExitCode, string Out, string Error)> EffnetAsync(params string[] args) =>
        Effnet.RunAsync(
            new Dictionary<string, string>
            {
                ["EFFNET_MODELS"] = Path.Combine(_work, "models"),
                // Pulls on first use go to a local port that refuses connections, never to the internet.
                ["EFFNET_CHECKPOINT_MIRROR"] = "http://127.0.0.1:9/",
            },
            args);

    [Fact]
    public async Task Onnx_runtimes_own_telemetry_is_off_unless_the_operator_keeps_it()
    {
        // Each run gets a HOME of its own and no CI variable (OnnxRuntimeTelemetryCache).
        var dataset = Directory.CreateDirectory(Path.Combine(_work, "one")).FullName;
        File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(dataset, "a.jpg"));

        async Task<bool> TelemetryCacheAfterRunAsync(string name, string? variable)
        {
            var home = Directory.CreateDirectory(Path.Combine(_work, $"home-{name}")).FullName;
            var environment = OnnxRuntimeTelemetryCache.Environment(home, variable);
            environment["EFFNET_MODELS"] = Path.Combine(_work, "models");
            environment["EFFNET_CHECKPOINT_MIRROR"] = "http://127.0.0.1:9/";
            // Should the runtime try to send its events anyway, they go to a port that refuses connections.
            environment["HTTPS_PROXY"] = environment["https_proxy"] = "http://127.0.0.1:9/";
            var (exitCode, stdout, stderr) = await Effnet.RunAsync(
                environment,
                "run", dataset, "--model", "efficientnet_b0", "--random-weights", "--out", Path.Combine(_work, $"out-{name}"));
            Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
            return OnnxRuntimeTelemetryCache.ExistsUnder(home);
        }

        Assert.False(await TelemetryCacheAfterRunAsync("default", null), "ONNX Runtime kept its telemetry cache although effnet opted out");
        // The control: with the operator's ORT_DISABLE_TELEMETRY=0 this ONNX Runtime does keep it, so the check above can fail.
        Assert.True(await TelemetryCacheAfterRunAsync("kept", "0"), "ONNX Runtime kept no telemetry cache with ORT_DISABLE_TELEMETRY=0");
    }

    [Fact]
    public async Task Run_over_a_manifest_labelled_with_class_names_evaluates_the_job()
    {
        // The shared labels.csv names each sample's class; a manifest of path,class name beside 20 copied photos.
        var dataset = Directory.CreateDirectory(Path.Combine(_work, "labelled")).FullName;
        var rows = File.ReadLines(Path.Combine(TestPaths.Samples, "labels.csv")).Skip(1).Take(20).Select(l => l.Split(',')).ToList();
        foreach (var row in rows)
        {
            File.Copy(Path.Combine(TestPaths.Samples, row[0]), Path.Combine(dataset, row[0]));
        }

        // One more row lists an image that is not there: it is an error record, and the accuracy section says why it
        // is missing from the rates.
        var manifest = Path.Combine(dataset, "manifest.csv");
        File.WriteAllLines(manifest, ["path,label", .. rows.Select(r => $"{r[0]},\"{r[3]}\""), $"gone.JPEG,\"{rows[0][3]}\""]);
        var output = Path.Combine(_work, "out");

        var (exitCode, stdout, stderr) = await EffnetAsync("run", manifest, "--model", "efficientnet_b0", "--random-weights", "--out", output);

        Assert.True(exitCode == 4, $"exit {exitCode}: {stdout}{stderr}");
        var evaluation = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!["evaluation"]!;
        Assert.Equal((21L, 20L, 1L), (evaluation["labelled"]!.GetValue<long>(), evaluation["evaluated"]!.GetValue<long>(), evaluation["errors"]!.GetValue<long>()));
        Assert.Equal(1, evaluation["errorsByKind"]!["not-found"]!.GetValue<long>());
        var labels = File.ReadAllLines(Path.Combine(output, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!["label"]!.GetValue<int>());
        Assert.Equal(rows.Select(r => int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)).Append(int.Parse(rows[0][1], System.Globalization.CultureInfo.InvariantCulture)), labels);
        // After the job, the output folder holds its outputs only: no shard results, state or lock files.
        Assert.Equal(
            ["changes.jsonl", "predictions.jsonl", "summary.json"],
            Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Run_over_a_manifest_with_a_label_of_no_class_fails_naming_the_line()
    {
        var dataset = Directory.CreateDirectory(Path.Combine(_work, "badlabel")).FullName;
        var photo = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First();
        File.Copy(photo, Path.Combine(dataset, "a.jpg"));
        var manifest = Path.Combine(dataset, "manifest.csv");
        File.WriteAllText(manifest, "a.jpg,tench\na.jpg,5000\n");

        var (exitCode, stdout, stderr) = await EffnetAsync("run", manifest, "--model", "efficientnet_b0", "--random-weights", "--out", Path.Combine(_work, "o"));

        Assert.True(exitCode == 1, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Contains("line 2: class index 5000 is out of range 0..999", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Untrained_weights_exported_and_imported_again_are_still_called_untrained_by_classify_and_run()
    {
        var onnx = Path.Combine(_work, "untrained.onnx");
        var photos = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Take(2).ToArray();
        var dataset = Directory.CreateDirectory(Path.Combine(_work, "two")).FullName;
        foreach (var photo in photos)
        {
            File.Copy(photo, Path.Combine(dataset, Path.GetFileName(photo)));
        }

        Assert.Equal(0, (await EffnetAsync("models", "export", "--model", "efficientnet_b0", "--random-weights", "--seed", "3", "--out", onnx)).ExitCode);
        Assert.Equal(0, (await EffnetAsync("models", "import", onnx, "--model", "efficientnet_b0")).ExitCode);

        var classify = await EffnetAsync(["classify", .. photos, "--model", "efficientnet_b0"]);
        var run = await EffnetAsync("run", dataset, "--model", "efficientnet_b0", "--out", Path.Combine(_work, "untrained-out"));

        foreach (var (exitCode, stdout, stderr) in new[] { classify, run })
        {
            Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
            Assert.Contains("warning: the stored weights of efficientnet_b0 are UNTRAINED", stderr, StringComparison.Ordinal);
        }

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_work, "untrained-out", "summary.json")))!;
        Assert.True(summary["untrained"]!.GetValue<bool>(), "summary.json calls stored untrained weights trained");
    }

    [Fact]
    public async Task Run_on_the_bad_inputs_writes_one_error_record_per_broken_file()
    {
        var output = Path.Combine(_work, "out");

        var (exitCode, stdout, stderr) = await EffnetAsync("run", TestPaths.BadInputs, "--model", "efficientnet_b0", "--random-weights", "--out", output);

        // Completed, with error records: exit 4, as README's exit-code table says.
        Assert.True(exitCode == 4, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Contains("UNTRAINED", stderr, StringComparison.Ordinal);
        var lines = File.ReadAllLines(Path.Combine(output, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(Directory.GetFiles(TestPaths.BadInputs).Length, lines.Count);
        foreach (var name in new[] { "truncated.jpg", "empty.jpg", "not-an-image.jpg", "bomb-50000x50000.png" })
        {
            var record = lines.Single(l => l["path"]!.GetValue<string>() == name);
            Assert.False(string.IsNullOrWhiteSpace(record["error"]?.GetValue<string>()), $"{name} has no reason");
        }

        Assert.NotNull(lines.Single(l => l["path"]!.GetValue<string>() == "cmyk.jpg")["top"]);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!;
        Assert.Equal(4, summary["imagesFailed"]!.GetValue<long>());
        Assert.Contains("CPUExecutionProvider, Float32", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_json_prints_one_object_per_image_in_the_documented_shape()
    {
        var photo = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First();
        var broken = Path.Combine(TestPaths.BadInputs, "not-an-image.jpg");

        var (exitCode, stdout, stderr) = await EffnetAsync("classify", photo, broken, "--model", "efficientnet_es", "--random-weights", "--top", "3", "--json");

        Assert.True(exitCode is 0 or 4, $"exit {exitCode}: {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(photo, lines[0]["path"]!.GetValue<string>());
        var top = lines[0]["top"]!.AsArray();
        Assert.Equal(3, top.Count);
        Assert.All(top, c =>
        {
            Assert.InRange(c!["index"]!.GetValue<int>(), 0, 999);
            Assert.False(string.IsNullOrEmpty(c["name"]!.GetValue<string>()));
            Assert.InRange(c["probability"]!.GetValue<float>(), 0f, 1f);
        });
        Assert.Equal(broken, lines[1]["path"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(lines[1]["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Without_weights_the_user_is_told_what_to_do()
    {
        var photo = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First();

        var (exitCode, _, stderr) = await EffnetAsync("classify", photo, "--model", "efficientnet_b0");

        Assert.Equal(3, exitCode);
        Assert.Contains("pulling the checkpoint", stderr, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:9", stderr, StringComparison.Ordinal);
        Assert.Contains("effnet models import", stderr, StringComparison.Ordinal);
        Assert.Contains("--random-weights", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_is_refused_with_a_reason()
    {
        var (exitCode, _, stderr) = await EffnetAsync("run", TestPaths.Samples, "--model", "resnet50", "--random-weights", "--out", Path.Combine(_work, "o"));

        Assert.Equal(2, exitCode);
        Assert.Contains("resnet50", stderr, StringComparison.Ordinal);
    }
}
