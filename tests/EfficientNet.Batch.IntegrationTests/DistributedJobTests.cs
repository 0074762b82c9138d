using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>The distributed path end to end: coordinator and workers as separate OS processes, over real RabbitMQ
/// and Azurite.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class DistributedJobTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly JobCluster _cluster = new(infrastructure, output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Two_worker_processes_label_every_photo_and_bad_file_exactly_once()
    {
        var photos = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Take(200).ToList();
        var badFiles = Directory.GetFiles(TestPaths.BadInputs).Order(StringComparer.Ordinal).ToList();
        var dataset = await UploadDatasetAsync(photos, badFiles);

        var coordinator = await StartAsync("EfficientNet.Batch.Coordinator", "coordinator");
        await StartAsync("EfficientNet.Batch.Worker", "worker-a");
        await StartAsync("EfficientNet.Batch.Worker", "worker-b");

        var jobId = await SubmitAsync(coordinator, dataset, shardSize: 12);
        var status = await WaitForTerminalStatusAsync(coordinator, jobId);
        Assert.Equal("Completed", status["status"]!.GetValue<string>());

        var results = _cluster.Results;
        var lines = await DownloadLinesAsync(results, $"{jobId:N}/predictions.jsonl");
        var records = lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

        var expected = photos.Select(p => Path.GetFileName(p)).Concat(badFiles.Select(p => "bad/" + Path.GetFileName(p))).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, records.Select(r => r["path"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList());

        foreach (var record in records)
        {
            var path = record["path"]!.GetValue<string>();
            var isBad = path.StartsWith("bad/", StringComparison.Ordinal) && path != "bad/cmyk.jpg";
            if (isBad)
            {
                Assert.False(string.IsNullOrWhiteSpace(record["error"]?.GetValue<string>()), $"{path} has no error reason");
                Assert.False(string.IsNullOrWhiteSpace(record["errorKind"]?.GetValue<string>()), $"{path} has no error kind");
                Assert.Null(record["top"]);
            }
            else
            {
                Assert.Null(record["error"]);
                var top = record["top"]!.AsArray();
                Assert.Equal(3, top.Count);
                Assert.All(top, c => Assert.InRange(c!["probability"]!.GetValue<float>(), 0f, 1f));
            }
        }

        var summary = JsonNode.Parse(string.Join('\n', await DownloadLinesAsync(results, $"{jobId:N}/summary.json")))!;
        Assert.Equal(201, summary["imagesOk"]!.GetValue<long>());
        Assert.Equal(4, summary["imagesFailed"]!.GetValue<long>());
        Assert.Equal(1, summary["skippedFiles"]!.GetValue<long>());
        Assert.True(summary["untrained"]!.GetValue<bool>());
        var byWorker = summary["shardsByWorker"]!.AsObject();
        Assert.Equal(["worker-a", "worker-b"], byWorker.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.All(byWorker, p => Assert.True(p.Value!.GetValue<int>() > 0, $"{p.Key} took no shard"));
        Assert.Equal(18, byWorker.Sum(p => p.Value!.GetValue<int>()));
        output.WriteLine($"shards by worker: {byWorker.ToJsonString()}, wall {summary["wallSeconds"]} s, {summary["imagesPerSecond"]} images/s");
    }

    [Fact]
    public async Task A_restarted_coordinator_finishes_the_jobs_of_the_one_before()
    {
        var photos = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Skip(500).Take(30).ToList();
        var dataset = await UploadDatasetAsync(photos, []);

        // No worker yet: the shards wait in RabbitMQ while the first coordinator dies.
        var first = await StartAsync("EfficientNet.Batch.Coordinator", "coordinator-1");
        // The CLI's key from the environment here, from the flag for `status` below.
        var (submitted, submitOut, submitError) = await Effnet.RunAsync(
            new Dictionary<string, string> { ["EFFNET_API_KEY"] = _cluster.ApiKey },
            "submit", dataset, "--model", "efficientnet_b0", "--random-weights", "--seed", "7", "--shard-size", "8", "--coordinator", first.BaseAddress.ToString());
        Assert.True(submitted == 0, $"effnet submit exited {submitted}: {submitOut}{submitError}");
        var jobId = JsonNode.Parse(submitOut)!["jobId"]!.GetValue<Guid>();
        await WaitUntilAsync(first, jobId, s => s["status"]!.GetValue<string>() == "Running" && s["shards"]!.GetValue<int>() == 4);
        await _cluster.StopAsync(first);

        var second = await StartAsync("EfficientNet.Batch.Coordinator", "coordinator-2");
        await StartAsync("EfficientNet.Batch.Worker", "worker-late");
        var status = await WaitForTerminalStatusAsync(second, jobId);

        Assert.Equal("Completed", status["status"]!.GetValue<string>());
        Assert.Equal(30, status["imagesOk"]!.GetValue<long>());
        var results = _cluster.Results;
        Assert.Equal(30, (await DownloadLinesAsync(results, $"{jobId:N}/predictions.jsonl")).Count);
        var (exitCode, statusOut, _) = await Effnet.RunAsync(
            new Dictionary<string, string>(), "status", jobId.ToString(), "--coordinator", second.BaseAddress.ToString(), "--api-key", _cluster.ApiKey);
        Assert.Equal(0, exitCode);
        Assert.Equal("Completed", JsonNode.Parse(statusOut)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Workers_load_imported_weights_from_the_shared_model_store()
    {
        var photos = Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Skip(300).Take(12).ToList();
        var dataset = await UploadDatasetAsync(photos, []);
        var publisher = new Dictionary<string, string>
        {
            ["EFFNET_MODELS"] = Path.Combine(_cluster.ModelsDirectory, "publisher"),
            ["AZURE_STORAGE_CONNECTION_STRING"] = infrastructure.AzureConnectionString,
        };
        var onnx = Path.Combine(_cluster.ModelsDirectory, "b0-seed5.onnx");
        await EffnetOkAsync(publisher, "models", "export", "--model", "efficientnet_b0", "--random-weights", "--seed", "5", "--out", onnx);
        await EffnetOkAsync(publisher, "models", "import", onnx, "--model", "efficientnet_b0");
        await EffnetOkAsync(publisher, "models", "publish", "efficientnet_b0", "--to", $"az://models-{_cluster.Run}");

        var coordinator = await StartAsync("EfficientNet.Batch.Coordinator", "coordinator", sharedModels: true);
        await StartAsync("EfficientNet.Batch.Worker", "worker-shared", sharedModels: true);
        var jobId = await SubmitAsync(coordinator, dataset, shardSize: 6, randomWeights: false);
        var status = await WaitForTerminalStatusAsync(coordinator, jobId);

        Assert.Equal("Completed", status["status"]!.GetValue<string>());
        var results = _cluster.Results;
        var summary = JsonNode.Parse(string.Join('\n', await DownloadLinesAsync(results, $"{jobId:N}/summary.json")))!;
        // The job did not ask for random weights, but the published file's provenance says its weights are generated:
        // the workers report it and the summary says so.
        Assert.True(summary["untrained"]!.GetValue<bool>());
        Assert.Contains("b0-seed5.onnx", summary["weights"]!.GetValue<string>(), StringComparison.Ordinal);

        // The published weights are the seed-5 random ones, so a local untrained run must agree with the workers.
        var first = photos[0];
        var (_, local, _) = await Effnet.RunAsync(publisher, "classify", first, "--model", "efficientnet_b0", "--random-weights", "--seed", "5", "--json", "--top", "3");
        var expected = JsonNode.Parse(local.Trim())!["top"]!.AsArray().Select(c => c!["index"]!.GetValue<int>()).ToList();
        var line = (await DownloadLinesAsync(results, $"{jobId:N}/predictions.jsonl")).Select(l => JsonNode.Parse(l)!).Single(l => l["path"]!.GetValue<string>() == Path.GetFileName(first));
        Assert.Equal(expected, line["top"]!.AsArray().Select(c => c!["index"]!.GetValue<int>()).ToList());
    }

    private static async Task EffnetOkAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (exitCode, stdout, stderr) = await Effnet.RunAsync(environment, args);
        Assert.True(exitCode == 0, $"effnet {string.Join(' ', args)} exited {exitCode}: {stdout}{stderr}");
    }

    private Task<string> UploadDatasetAsync(IReadOnlyList<string> photos, IReadOnlyList<string> badFiles) =>
        _cluster.UploadDatasetAsync(photos, badFiles);

    private Task<HostProcess> StartAsync(string project, string name, bool sharedModels = false) =>
        _cluster.StartAsync(project, name, sharedModels: sharedModels);

    private async Task<Guid> SubmitAsync(HostProcess coordinator, string dataset, int shardSize, bool randomWeights = true) =>
        (await _cluster.SubmitAsync(coordinator, dataset, shardSize, randomWeights: randomWeights))["jobId"]!.GetValue<Guid>();

    private Task<JsonNode> WaitForTerminalStatusAsync(HostProcess coordinator, Guid jobId) =>
        _cluster.WaitForTerminalStatusAsync(coordinator, jobId);

    private Task<JsonNode> WaitUntilAsync(HostProcess coordinator, Guid jobId, Func<JsonNode, bool> condition) =>
        _cluster.WaitUntilAsync(coordinator, jobId, condition);

    private static Task<List<string>> DownloadLinesAsync(BlobContainerClient container, string key) =>
        JobCluster.DownloadLinesAsync(container, key);
}
