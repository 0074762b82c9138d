using System.Text.Json.Nodes;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet evaluate</c> as a user runs it: a predictions.jsonl and a labels file in, figures out. Needs no
/// broker, storage or model.</summary>
public sealed class EvaluateCliTests : IDisposable
{
    // Four records of ImageNet classes 0 tench, 1 goldfish, 2 great_white_shark: a right, b wrong (tench taken for a
    // goldfish, the truth second), c an error, d not in the labels; e is labelled but has no record.
    private static readonly string[] Predictions =
    [
        """{"path":"a.jpg","top":[{"index":0,"name":"tench","probability":0.9},{"index":1,"name":"goldfish","probability":0.05}]}""",
        """{"path":"b.jpg","top":[{"index":1,"name":"goldfish","probability":0.6},{"index":0,"name":"tench","probability":0.3}]}""",
        """{"path":"c.jpg","error":"truncated JPEG","errorKind":"corrupt"}""",
        """{"path":"d.jpg","top":[{"index":2,"name":"great_white_shark","probability":0.7}]}""",
    ];

    private readonly string _work = Directory.CreateTempSubdirectory("effnet-evaluate-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var file = Path.Combine(_work, name);
        File.WriteAllLines(file, lines);
        return file;
    }

    private static Task<(int ExitCode, string Out, string Error)> EffnetAsync(params string[] args) =>
        Effnet.RunAsync(new Dictionary<string, string>(), args);

    [Fact]
    public async Task Json_output_reports_rates_counts_and_confusions()
    {
        var predictions = Write("predictions.jsonl", Predictions);
        var labels = Write("labels.csv", "path,label", "a.jpg,tench", "b.jpg,0", "c.jpg,\"goldfish\"", "e.jpg,2");

        var (exitCode, stdout, stderr) = await EffnetAsync("evaluate", predictions, "--labels", labels, "--json");

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        var result = JsonNode.Parse(stdout)!;
        Assert.Equal(4, result["records"]!.GetValue<long>());
        Assert.Equal(3, result["labelled"]!.GetValue<long>());
        Assert.Equal(2, result["evaluated"]!.GetValue<long>());
        Assert.Equal(1, result["errors"]!.GetValue<long>());
        Assert.Equal(1, result["unlabelled"]!.GetValue<long>());
        Assert.Equal(1, result["missingFromPredictions"]!.GetValue<long>());
        Assert.Equal(0.5, result["top1"]!.GetValue<double>());
        Assert.Equal(1.0, result["top5"]!.GetValue<double>());
        Assert.Equal(2, result["topK"]!.GetValue<int>());
        // Bins: a (0.9, right) and b (0.6, wrong): ECE = (|1 - 0.9| + |0 - 0.6|) / 2 = 0.35.
        Assert.Equal(0.35, result["expectedCalibrationError"]!.GetValue<double>(), 4);
        var pair = result["mostConfused"]!.AsArray().Single()!;
        Assert.Equal(("tench", "goldfish", 1L, "b.jpg"), (
            pair["actualName"]!.GetValue<string>(),
            pair["predictedName"]!.GetValue<string>(),
            pair["count"]!.GetValue<long>(),
            pair["examples"]!.AsArray().Single()!.GetValue<string>()));
        var tench = result["perClass"]!.AsArray().Single(c => c!["index"]!.GetValue<int>() == 0)!;
        Assert.Equal((2L, 1L, 0.5, 1.0), (tench["support"]!.GetValue<long>(), tench["correct"]!.GetValue<long>(), tench["recall"]!.GetValue<double>(), tench["precision"]!.GetValue<double>()));
        Assert.Equal(15, result["calibration"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_table_shows_top1_and_the_worst_classes_and_without_labels_the_records_own_are_used()
    {
        var predictions = Write("predictions.jsonl",
            """{"path":"a.jpg","label":0,"top":[{"index":0,"name":"tench","probability":0.9}]}""",
            """{"path":"b.jpg","label":0,"top":[{"index":1,"name":"goldfish","probability":0.6}]}""",
            """{"path":"c.jpg","label":1,"top":[{"index":1,"name":"goldfish","probability":0.8}]}""",
            """{"path":"d.jpg","label":1,"top":[{"index":1,"name":"goldfish","probability":0.7}]}""");

        var (exitCode, stdout, stderr) = await EffnetAsync("evaluate", predictions);

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Matches(@"top-1\s*│\s*75\.00 %", stdout);
        Assert.Contains("worst classes by recall", stdout, StringComparison.Ordinal);
        Assert.Contains("tench (0)", stdout, StringComparison.Ordinal);
        Assert.Contains("b.jpg", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_classes_file_names_the_classes_of_a_custom_model()
    {
        var classes = Write("classes.txt", "cat", "dog", "fox");
        var predictions = Write("predictions.jsonl",
            """{"path":"x/1.jpg","top":[{"index":2,"name":"fox","probability":0.8}]}""",
            """{"path":"x/2.jpg","top":[{"index":1,"name":"dog","probability":0.8}]}""");
        var labels = Write("labels.csv", "x/1.jpg,Fox", "x/2.jpg,cat");

        var (exitCode, stdout, stderr) = await EffnetAsync("evaluate", predictions, "--labels", labels, "--classes", classes, "--json");

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        var result = JsonNode.Parse(stdout)!;
        Assert.Equal(0.5, result["top1"]!.GetValue<double>());
        Assert.Equal(["cat", "dog", "fox"], result["perClass"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_unknown_class_name_in_the_labels_is_a_one_line_error_without_a_stack_trace()
    {
        var predictions = Write("predictions.jsonl", Predictions);
        var labels = Write("labels.csv", "path,label", "a.jpg,tench", "b.jpg,unicorn");

        var (exitCode, stdout, stderr) = await EffnetAsync("evaluate", predictions, "--labels", labels);

        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("line 3", line, StringComparison.Ordinal);
        Assert.Contains("'unicorn'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_predictions_line_or_a_missing_file_is_a_one_line_error()
    {
        var predictions = Write("predictions.jsonl", Predictions[0], "{not json");

        var (exitCode, _, stderr) = await EffnetAsync("evaluate", predictions);
        var (missingExit, _, missingError) = await EffnetAsync("evaluate", Path.Combine(_work, "nothing.jsonl"));

        Assert.Equal(2, exitCode);
        Assert.Contains("line 2: not a prediction record", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Equal(2, missingExit);
        Assert.Contains("nothing.jsonl", Assert.Single(missingError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
