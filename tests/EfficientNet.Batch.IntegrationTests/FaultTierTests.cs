using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// The slow fault tier: coordinator and workers as separate OS processes over real RabbitMQ and Azurite, each test
/// injecting one fault in the middle of a job (a worker killed with SIGKILL mid-shard, a shard that kills every worker
/// taking it, the broker restarted, the coordinator killed, blob storage frozen for 15 s) and then checking every image
/// of the job's output: none lost, none twice, and the status the fault must not change.
/// </summary>
[Collection(InfrastructureCollection.Name)]
[Trait("Category", "Fault")]
public sealed class FaultTierTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private const int ShardSize = 4;

    private static readonly TimeSpan FreezeFor = TimeSpan.FromSeconds(15);

    /// <summary>Short periods, so that what the sweep finishes is finished within a test's patience.</summary>
    private static readonly Dictionary<string, string> CoordinatorSettings = new()
    {
        ["Coordinator__SweepInterval"] = TimeSpan.FromSeconds(2).ToString("c"),
        ["Coordinator__FinalizeLeaseTimeout"] = TimeSpan.FromSeconds(4).ToString("c"),
    };

    /// <summary>One shard at a time, none fetched ahead: the shard a worker holds is the one it runs.</summary>
    private static readonly Dictionary<string, string> WorkerSettings = new()
    {
        ["Worker__ConcurrentShards"] = "1",
        ["Worker__PrefetchCount"] = "1",
    };

    private readonly JobCluster _cluster = new(infrastructure, output);
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        output.WriteLine($"test wall time {_elapsed.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_worker_killed_mid_shard_loses_nothing_a_restarted_worker_finishes_the_job()
    {
        // Shards of 8: the worker is killed within moments of being seen running one, far less than the shard takes.
        const int shardSize = 8;
        var photos = JobCluster.Photos(100, 64);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        // One worker: a shard whose delivery is counted and whose result is not yet written is the one it is running.
        var hosts = await _cluster.StartAllAsync(
            (JobCluster.Coordinator, "coordinator", CoordinatorSettings),
            (JobCluster.Worker, "worker-a", WorkerSettings));
        var coordinator = hosts[0];
        var jobId = JobId(await _cluster.SubmitAsync(coordinator, dataset, shardSize));
        await _cluster.WaitUntilAsync(coordinator, jobId, j => ShardsDone(j) >= 2, interval: TimeSpan.FromMilliseconds(100));

        var running = await WaitForRunningShardAsync(_cluster.Results, jobId, hosts[1]);
        hosts[1].Kill();
        var atKill = await _cluster.GetJobAsync(coordinator, jobId);
        // The shard seen running may have committed its result (and dropped its delivery count) in the moments before
        // the kill landed: then its redelivery is a first one again. What the kill interrupted is what still has a
        // delivery count and no result now.
        var interrupted = await InterruptedShardsAsync(_cluster.Results, jobId);
        output.WriteLine(
            $"{DateTime.UtcNow:HH:mm:ss.fff} worker-a killed while running shard {running}; {ShardsDone(atKill)} of {Shards(atKill)} shards done; " +
            $"interrupted: [{string.Join(", ", interrupted)}]");
        Assert.False(JobCluster.IsTerminal(atKill), "the job ended before the worker was killed");
        await _cluster.StopAsync(hosts[1]);

        var restarted = await _cluster.StartAsync(JobCluster.Worker, "worker-a-restarted", WorkerSettings);
        var job = await _cluster.WaitForTerminalStatusAsync(coordinator, jobId);

        Assert.Equal("Completed", JobCluster.Status(job));
        await _cluster.AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        // The killed worker's shard came back to the restarted one, counted as its second delivery.
        Assert.All(interrupted, shard => Assert.Contains($"shard {shard}: delivery 2 of at most 3", restarted.Output, StringComparison.Ordinal));
        if (interrupted.Count == 0)
        {
            output.WriteLine($"shard {running} committed its result just before the kill: no delivery was interrupted mid-shard this time");
        }
    }

    [Fact]
    public async Task A_shard_that_kills_every_worker_taking_it_becomes_error_records_after_the_delivery_limit()
    {
        const int limit = 2;
        const int shardSize = 6;
        var photos = JobCluster.Photos(200, 30);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var workerSettings = new Dictionary<string, string>(WorkerSettings) { ["Worker__MaxShardDeliveries"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        // No worker yet: every shard waits in the queue. The shards are sent concurrently, so the queue's order is not
        // the shards' order: the poisoned shard is whichever the first worker takes first (one at a time, none fetched
        // ahead), and a killed worker's shard goes back to its place at the head of the queue, so each fresh worker
        // takes it first. (Waiting for shard 0 instead failed now and then: the worker took another shard first and
        // then ran shard 0 on a warm model between two polls, counter and all.)
        var coordinator = await _cluster.StartAsync(JobCluster.Coordinator, "coordinator", CoordinatorSettings);
        var jobId = JobId(await _cluster.SubmitAsync(coordinator, dataset, shardSize));
        await _cluster.WaitUntilAsync(coordinator, jobId, j => j["dispatchedAt"] is not null, interval: TimeSpan.FromMilliseconds(200));
        var shardsFolder = $"{jobId:N}/shards/{jobId:N}";
        int? poisonedShard = null;

        // The shard "kills" every worker that takes it, until the limit: each is killed the moment it has counted its
        // delivery of the shard (a fresh worker then still loads the model), before it can write a result.
        for (var delivery = 1; delivery <= limit; delivery++)
        {
            var worker = await _cluster.StartAsync(JobCluster.Worker, $"worker-{delivery}", workerSettings);
            poisonedShard = await WaitForDeliveriesAsync(shardsFolder, poisonedShard, delivery, worker, coordinator, jobId);
            worker.Kill();
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} worker-{delivery} killed on delivery {delivery} of shard {poisonedShard}");
            Assert.False(
                await _cluster.Results.GetBlobClient($"{shardsFolder}/shard-{poisonedShard:D6}.jsonl").ExistsAsync(),
                $"worker-{delivery} wrote shard {poisonedShard}'s result before it was killed: the test lost its race; take larger shards");
            await _cluster.StopAsync(worker);
        }

        var poisoned = poisonedShard!.Value;
        await _cluster.StartAsync(JobCluster.Worker, "worker-last", workerSettings);
        var job = await _cluster.WaitForTerminalStatusAsync(coordinator, jobId);

        Assert.Equal("CompletedWithErrors", JobCluster.Status(job));
        var records = await _cluster.AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        var failed = records.Where(r => r["errorKind"] is not null).ToList();
        Assert.Equal(shardSize, failed.Count);
        Assert.All(failed, r =>
        {
            Assert.Equal("shard-failed", r["errorKind"]!.GetValue<string>());
            Assert.Contains($"Shard {poisoned} of job {jobId} reached the delivery limit", r["error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains($"Worker:MaxShardDeliveries ({limit})", r["error"]!.GetValue<string>(), StringComparison.Ordinal);
        });
        Assert.All(records.Except(failed), r => Assert.Equal(3, r["top"]!.AsArray().Count));
        var summary = await JobCluster.DownloadJsonAsync(_cluster.Results, $"{jobId:N}/summary.json");
        Assert.Equal(photos.Count - shardSize, summary["imagesOk"]!.GetValue<long>());
        Assert.Equal(shardSize, summary["imagesFailed"]!.GetValue<long>());
        // The delivery counters go with the job's other working files. The cleanup runs just after the terminal status
        // is stored (so a restarted coordinator can always merge again), so it may still be under way here.
        await WaitUntilEmptyAsync(_cluster.Results, $"{jobId:N}/shards/");
    }

    [Fact]
    public async Task A_broker_restarted_mid_job_loses_nothing()
    {
        // Before anything else: a test that cannot restart the broker fails here, with the reason.
        var broker = BrokerControl.For(infrastructure);
        // 480 photos and the stop at the first finished shard: stop_app takes many seconds on a loaded machine, and the
        // job must still be running when the broker is down. (With 240, two suites at once on 2 cores saw stop_app take
        // 23 s, and all 60 shards finished before it returned.)
        var photos = JobCluster.Photos(300, 480);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var hosts = await StartCoordinatorAndWorkersAsync(_cluster);
        var coordinator = hosts[0];
        var jobId = JobId(await _cluster.SubmitAsync(coordinator, dataset, ShardSize));
        await _cluster.WaitUntilAsync(coordinator, jobId, j => ShardsDone(j) >= 1, interval: TimeSpan.FromMilliseconds(100));

        try
        {
            await broker.StopAsync();
            var atStop = await _cluster.GetJobAsync(coordinator, jobId);
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} broker stopped ({broker.Description}); {ShardsDone(atStop)} of {Shards(atStop)} shards done");
            Assert.False(JobCluster.IsTerminal(atStop), "the job ended before the broker was stopped");
            await Task.Delay(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await broker.StartAsync(TimeSpan.FromMinutes(1));
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} broker started again");
        }

        var job = await _cluster.WaitForTerminalStatusAsync(coordinator, jobId);
        Assert.Equal("Completed", JobCluster.Status(job));
        await _cluster.AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        Assert.All(hosts, h => Assert.False(h.HasExited, $"a host on port {h.Port} exited during the broker restart:{Environment.NewLine}{h.Output}"));
    }

    [Fact]
    public async Task A_coordinator_killed_mid_job_loses_nothing_the_next_one_finishes_the_job()
    {
        var photos = JobCluster.Photos(400, 80);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var hosts = await StartCoordinatorAndWorkersAsync(_cluster);
        var jobId = JobId(await _cluster.SubmitAsync(hosts[0], dataset, ShardSize));
        var beforeKill = await _cluster.WaitUntilAsync(hosts[0], jobId, j => ShardsDone(j) >= 2, interval: TimeSpan.FromMilliseconds(100));

        hosts[0].Kill();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} coordinator killed; {ShardsDone(beforeKill)} of {Shards(beforeKill)} shards done just before");
        var record = await JobCluster.DownloadJsonAsync(_cluster.State, $"jobs/{jobId:N}.json");
        Assert.Equal("Running", record["status"]!.GetValue<string>());
        await _cluster.StopAsync(hosts[0]);

        // The workers go on meanwhile; their events wait in the coordinator's queues.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var next = await _cluster.StartAsync(JobCluster.Coordinator, "coordinator-2", CoordinatorSettings);
        var job = await _cluster.WaitForTerminalStatusAsync(next, jobId);

        Assert.Equal("Completed", JobCluster.Status(job));
        await _cluster.AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        var summary = await JobCluster.DownloadJsonAsync(_cluster.Results, $"{jobId:N}/summary.json");
        Assert.Equal(photos.Count, summary["imagesOk"]!.GetValue<long>());
    }

    [Fact]
    public async Task Blob_storage_frozen_for_15_seconds_mid_job_loses_nothing()
    {
        // A private Azurite: the fixture's serves other tests (and test projects) at the same time.
        await using var azurite = await PrivateAzurite.StartAsync(TimeSpan.FromMinutes(1));
        await using var cluster = new JobCluster(infrastructure, output, azurite.ConnectionString);
        var photos = JobCluster.Photos(500, 80);
        var dataset = await cluster.UploadDatasetAsync(photos);
        var hosts = await StartCoordinatorAndWorkersAsync(cluster);
        var coordinator = hosts[0];
        var jobId = JobId(await cluster.SubmitAsync(coordinator, dataset, ShardSize));
        var beforeFreeze = await cluster.WaitUntilAsync(coordinator, jobId, j => ShardsDone(j) >= 2, interval: TimeSpan.FromMilliseconds(100));

        try
        {
            azurite.Freeze();
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} storage frozen; {ShardsDone(beforeFreeze)} of {Shards(beforeFreeze)} shards done just before");
            Assert.False(JobCluster.IsTerminal(beforeFreeze), "the job ended before the storage was frozen");
            await Task.Delay(FreezeFor);
        }
        finally
        {
            azurite.Thaw();
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} storage thawed");
        }

        var job = await cluster.WaitForTerminalStatusAsync(coordinator, jobId);
        Assert.Equal("Completed", JobCluster.Status(job));
        await cluster.AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        Assert.All(hosts, h => Assert.False(h.HasExited, $"a host on port {h.Port} exited while the storage was frozen:{Environment.NewLine}{h.Output}"));
    }

    private static async Task<HostProcess[]> StartCoordinatorAndWorkersAsync(JobCluster cluster) =>
        await cluster.StartAllAsync(
            (JobCluster.Coordinator, "coordinator", CoordinatorSettings),
            (JobCluster.Worker, "worker-a", WorkerSettings),
            (JobCluster.Worker, "worker-b", WorkerSettings));

    /// <summary>The shard a (sole) worker is running: one whose delivery is counted and whose result is not written.</summary>
    private static async Task<int> WaitForRunningShardAsync(BlobContainerClient results, Guid jobId, HostProcess worker)
    {
        var folder = $"{jobId:N}/shards/{jobId:N}/";
        var deadline = DateTime.UtcNow + JobCluster.JobTimeout;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(worker.HasExited, $"the worker exited by itself:{Environment.NewLine}{worker.Output}");
            var names = await ListAsync(results, folder);
            var running = names
                .Where(n => n.EndsWith(".deliveries", StringComparison.Ordinal))
                .Select(n => n[..^".deliveries".Length])
                .FirstOrDefault(shard => !names.Contains(shard + ".jsonl"));
            if (running is not null)
            {
                return int.Parse(running["shard-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"No shard of job {jobId} was seen running within {JobCluster.JobTimeout}:{Environment.NewLine}{worker.Output}");
    }

    /// <summary>Waits until a shard's delivery counter reaches <paramref name="deliveries"/>: <paramref name="shard"/>'s,
    /// or, when that is null, the first counter to appear (the shard a fresh worker took first). Returns the shard. On a
    /// timeout the message says what the coordinator and the job's shard folder show, besides both processes' output.</summary>
    private async Task<int> WaitForDeliveriesAsync(string shardsFolder, int? shard, int deliveries, HostProcess worker, HostProcess coordinator, Guid jobId)
    {
        var deadline = DateTime.UtcNow + JobCluster.JobTimeout;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(worker.HasExited, $"the worker exited by itself:{Environment.NewLine}{worker.Output}");
            var counters = shard is { } known
                ? [known]
                : CountedShards(await ListAsync(_cluster.Results, shardsFolder + "/")).ToList();
            foreach (var candidate in counters)
            {
                try
                {
                    var counter = _cluster.Results.GetBlobClient($"{shardsFolder}/shard-{candidate:D6}.deliveries");
                    if (int.Parse((await counter.DownloadContentAsync()).Value.Content.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= deliveries)
                    {
                        return candidate;
                    }
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // Not delivered yet, or committed and forgotten meanwhile.
                }
            }

            await Task.Delay(10);
        }

        var job = await _cluster.GetJobAsync(coordinator, jobId);
        var files = await ListAsync(_cluster.Results, shardsFolder + "/");
        throw new TimeoutException(
            $"{(shard is { } s ? $"shard {s}'s" : "no")} delivery counter reached {deliveries} within {JobCluster.JobTimeout}.{Environment.NewLine}" +
            $"The coordinator's view of the job: {job.ToJsonString()}{Environment.NewLine}" +
            $"The shard folder holds: {string.Join(", ", files)}{Environment.NewLine}" +
            $"Worker:{Environment.NewLine}{worker.Output}{Environment.NewLine}Coordinator:{Environment.NewLine}{coordinator.Output}");
    }

    /// <summary>Shards with a delivery count and no result: a worker counted a delivery and stopped before it committed.</summary>
    private static async Task<List<int>> InterruptedShardsAsync(BlobContainerClient results, Guid jobId)
    {
        var names = await ListAsync(results, $"{jobId:N}/shards/{jobId:N}/");
        return [.. CountedShards(names).Where(shard => !names.Contains($"shard-{shard:D6}.jsonl")).Order()];
    }

    /// <summary>The shards whose delivery counter (<c>shard-NNNNNN.deliveries</c>) is among <paramref name="names"/>.</summary>
    private static IEnumerable<int> CountedShards(IEnumerable<string> names) =>
        names
            .Where(n => n.EndsWith(".deliveries", StringComparison.Ordinal))
            .Select(n => int.Parse(n["shard-".Length..^".deliveries".Length], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Waits until no blob is left under <paramref name="prefix"/>; fails naming what is left after 30 s.</summary>
    private static async Task WaitUntilEmptyAsync(BlobContainerClient container, string prefix)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HashSet<string> left;
        while ((left = await ListAsync(container, prefix)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Empty(left);
    }

    /// <summary>Names (after <paramref name="prefix"/>) of the blobs under it.</summary>
    private static async Task<HashSet<string>> ListAsync(BlobContainerClient container, string prefix)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, CancellationToken.None))
        {
            names.Add(blob.Name[prefix.Length..]);
        }

        return names;
    }

    private static Guid JobId(JsonNode job) => job["jobId"]!.GetValue<Guid>();

    private static int ShardsDone(JsonNode job) => job["progress"]!["shardsDone"]!.GetValue<int>();

    private static int Shards(JsonNode job) => job["shards"]!.GetValue<int>();
}
