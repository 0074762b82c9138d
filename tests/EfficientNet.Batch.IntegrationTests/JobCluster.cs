using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// One test's coordinator and workers, each a separate OS process, over the fixture's RabbitMQ and Azurite, with
/// blob containers of their own (<c>datasets-</c>, <c>state-</c>, <c>results-</c>, <c>models-{run}</c>), and the HTTP
/// calls a test makes on the coordinator. Disposing it kills every host it started.
/// </summary>
/// <param name="storageConnectionString">Blob storage for every container of this cluster instead of the fixture's
/// Azurite: a test that freezes its storage gives the cluster a private one (<see cref="PrivateAzurite"/>).</param>
internal sealed class JobCluster(InfrastructureFixture infrastructure, ITestOutputHelper output, string? storageConnectionString = null) : IAsyncDisposable
{
    public const string Coordinator = "EfficientNet.Batch.Coordinator";
    public const string Worker = "EfficientNet.Batch.Worker";

    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(6);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly List<HostProcess> _hosts = [];
    private readonly Dictionary<HostProcess, HttpClient> _clients = [];

    /// <summary>The admin API key every coordinator of this cluster accepts (only its SHA-256 is configured) and every
    /// <see cref="Client"/> sends.</summary>
    public string ApiKey { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    /// <summary>The blob storage of this cluster's containers.</summary>
    public string StorageConnectionString { get; } = storageConnectionString ?? infrastructure.AzureConnectionString;

    /// <summary>Suffix of this cluster's container names.</summary>
    public string Run { get; } = Guid.NewGuid().ToString("N")[..10];

    public string ModelsDirectory { get; } = Directory.CreateTempSubdirectory("effnet-it-models-").FullName;

    public string StateLocation => $"az://state-{Run}";

    public string OutputLocation => $"az://results-{Run}";

    public BlobContainerClient State => new(StorageConnectionString, $"state-{Run}");

    public BlobContainerClient Results => new(StorageConnectionString, $"results-{Run}");

    /// <summary>The last lines of every host's output, for failure messages.</summary>
    public string Logs
    {
        get
        {
            lock (_hosts)
            {
                return string.Join(Environment.NewLine + "----" + Environment.NewLine, _hosts.Select(h => h.Output));
            }
        }
    }

    /// <summary>Lower-case hex SHA-256 of a key, as <c>Auth:ApiKeys:N:Sha256</c> takes it.</summary>
    public static string Sha256Hex(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    /// <summary>Photos of the shared sample set, in file name order.</summary>
    public static List<string> Photos(int skip, int take) =>
        Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Skip(skip).Take(take).ToList();

    /// <summary>The paths predictions.jsonl names for a dataset uploaded by <see cref="UploadDatasetAsync"/>.</summary>
    public static List<string> ExpectedPaths(IEnumerable<string> photos, IEnumerable<string>? badFiles = null) =>
        photos.Select(p => Path.GetFileName(p))
            .Concat((badFiles ?? []).Select(p => "bad/" + Path.GetFileName(p)))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Starts a host and waits until it is ready (its bus connected).</summary>
    /// <param name="sharedModels">Give the host a model directory of its own and the shared model store
    /// <c>az://models-{run}</c>, so that it must download published weights.</param>
    public async Task<HostProcess> StartAsync(string project, string name, IReadOnlyDictionary<string, string>? settings = null, bool sharedModels = false)
    {
        var environment = new Dictionary<string, string>
        {
            ["Messaging__Transport"] = "RabbitMq",
            ["Messaging__RabbitMqUri"] = infrastructure.RabbitMqUri,
            ["Storage__AzureConnectionString"] = StorageConnectionString,
            ["Coordinator__StateLocation"] = StateLocation,
            ["Coordinator__OutputLocation"] = OutputLocation,
            ["Models__Directory"] = sharedModels ? Path.Combine(ModelsDirectory, name) : ModelsDirectory,
            ["Models__RemoteLocation"] = sharedModels ? $"az://models-{Run}" : "",
            ["Worker__Name"] = name,
            ["Inference__BatchSize"] = "8",
            ["Auth__ApiKeys__0__Name"] = "cluster-admin",
            ["Auth__ApiKeys__0__Sha256"] = Sha256Hex(ApiKey),
            ["Auth__ApiKeys__0__Scopes__0"] = "admin",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var host = HostProcess.Start(project, environment);
        lock (_hosts)
        {
            _hosts.Add(host);
        }

        await host.WaitUntilReadyAsync(ReadyTimeout);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {name} ready on port {host.Port}");
        return host;
    }

    /// <summary>Starts hosts side by side (each start is mostly waiting for the runtime and the broker).</summary>
    public async Task<HostProcess[]> StartAllAsync(params (string Project, string Name, IReadOnlyDictionary<string, string>? Settings)[] hosts) =>
        await Task.WhenAll(hosts.Select(h => StartAsync(h.Project, h.Name, h.Settings)));

    /// <summary>Stops a host for good (it is killed).</summary>
    public async Task StopAsync(HostProcess host)
    {
        lock (_hosts)
        {
            _hosts.Remove(host);
            if (_clients.Remove(host, out var client))
            {
                client.Dispose();
            }
        }

        await host.DisposeAsync();
    }

    /// <summary>Uploads photos (and bad files under <c>bad/</c>) to <c>az://datasets-{run}/{folder}</c>, with a
    /// README.txt that is not an image; returns the dataset location.</summary>
    public async Task<string> UploadDatasetAsync(IReadOnlyList<string> photos, IReadOnlyList<string>? badFiles = null, string folder = "imagenet")
    {
        var container = new BlobContainerClient(StorageConnectionString, $"datasets-{Run}");
        await container.CreateIfNotExistsAsync();
        var uploads = photos.Select(p => (Path: p, Key: $"{folder}/{Path.GetFileName(p)}"))
            .Concat((badFiles ?? []).Select(p => (Path: p, Key: $"{folder}/bad/{Path.GetFileName(p)}")));
        await Parallel.ForEachAsync(uploads, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (u, ct) =>
        {
            await using var stream = File.OpenRead(u.Path);
            await container.GetBlobClient(u.Key).UploadAsync(stream, overwrite: true, ct);
        });
        await container.GetBlobClient($"{folder}/README.txt").UploadAsync(BinaryData.FromString("not an image"), overwrite: true);
        return $"az://datasets-{Run}/{folder}";
    }

    public HttpClient Client(HostProcess coordinator)
    {
        lock (_hosts)
        {
            if (!_clients.TryGetValue(coordinator, out var client))
            {
                client = new HttpClient { BaseAddress = coordinator.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
                client.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
                _clients[coordinator] = client;
            }

            return client;
        }
    }

    /// <summary>POST /jobs for a random-weights efficientnet_b0 job; the answer must be 202. Returns the job view.</summary>
    /// <param name="extra">More request members (output, priority, overwrite…), as a JSON object.</param>
    public async Task<JsonNode> SubmitAsync(HostProcess coordinator, string dataset, int shardSize, JsonObject? extra = null, bool randomWeights = true)
    {
        using var response = await PostJobAsync(coordinator, dataset, shardSize, extra, randomWeights);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /jobs answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>POST /jobs, whatever the answer.</summary>
    public async Task<HttpResponseMessage> PostJobAsync(HostProcess coordinator, string dataset, int shardSize, JsonObject? extra = null, bool randomWeights = true)
    {
        var request = new JsonObject
        {
            ["dataset"] = dataset,
            ["model"] = "efficientnet_b0",
            ["randomWeights"] = randomWeights,
            ["seed"] = 7,
            ["shardSize"] = shardSize,
            ["topK"] = 3,
        };
        foreach (var (key, value) in extra ?? [])
        {
            request[key] = value?.DeepClone();
        }

        return await Client(coordinator).PostAsJsonAsync("jobs", request);
    }

    public async Task<JsonNode> GetJobAsync(HostProcess coordinator, Guid jobId) =>
        JsonNode.Parse(await Client(coordinator).GetStringAsync($"jobs/{jobId}"))!;

    public Task<JsonNode> WaitForTerminalStatusAsync(HostProcess coordinator, Guid jobId, TimeSpan? timeout = null) =>
        WaitUntilAsync(coordinator, jobId, s => IsTerminal(s), timeout);

    /// <summary>Polls GET /jobs/{id} until <paramref name="condition"/> holds; on timeout, fails with the last status and
    /// every host's output.</summary>
    public async Task<JsonNode> WaitUntilAsync(HostProcess coordinator, Guid jobId, Func<JsonNode, bool> condition, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? JobTimeout);
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await GetJobAsync(coordinator, jobId);
            if (condition(last))
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {last.ToJsonString(Indented)}");
                return last;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(500));
        }

        throw new TimeoutException($"Job {jobId} did not reach the expected state within {timeout ?? JobTimeout}; last status: {last?.ToJsonString()}{Environment.NewLine}{Logs}");
    }

    public static string Status(JsonNode job) => job["status"]!.GetValue<string>();

    public static bool IsTerminal(JsonNode job) => Status(job) is "Completed" or "CompletedWithErrors" or "Failed" or "Cancelled";

    /// <summary>Reads predictions.jsonl at <paramref name="predictionsKey"/> of <see cref="Results"/> and asserts that it
    /// names every photo exactly once (none lost, none twice); returns its records.</summary>
    public async Task<List<JsonNode>> AssertEachImageOnceAsync(string predictionsKey, IReadOnlyList<string> photos)
    {
        var records = (await DownloadLinesAsync(Results, predictionsKey)).Select(l => JsonNode.Parse(l)!).ToList();
        var paths = records.Select(r => r["path"]!.GetValue<string>()).ToList();
        var duplicates = paths.GroupBy(p => p, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        Assert.True(duplicates.Count == 0, $"images predicted more than once: {string.Join(", ", duplicates)}");
        var expected = ExpectedPaths(photos);
        var lost = expected.Except(paths, StringComparer.Ordinal).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} images lost: {string.Join(", ", lost.Take(10))}");
        Assert.Equal(expected, paths.Order(StringComparer.Ordinal).ToList());
        return records;
    }

    public static async Task<List<string>> DownloadLinesAsync(BlobContainerClient container, string key)
    {
        var content = await container.GetBlobClient(key).DownloadContentAsync();
        return content.Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    public static async Task<JsonNode> DownloadJsonAsync(BlobContainerClient container, string key) =>
        JsonNode.Parse((await container.GetBlobClient(key).DownloadContentAsync()).Value.Content.ToString())!;

    public async ValueTask DisposeAsync()
    {
        List<HostProcess> hosts;
        lock (_hosts)
        {
            hosts = [.. _hosts];
            _hosts.Clear();
            foreach (var client in _clients.Values)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        Directory.Delete(ModelsDirectory, recursive: true);
    }
}
