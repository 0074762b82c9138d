using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// Controlling jobs on the distributed path, and surviving faults: cancel, priorities, output ownership, a coordinator
/// killed in the middle of a merge, the broker down during a submit. Coordinator and workers are separate OS processes
/// over real RabbitMQ and Azurite, and every job's predictions are checked image by image: none lost, none twice.
/// </summary>
[Collection(InfrastructureCollection.Name)]
[Trait("Category", "Fault")]
public sealed class JobControlTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Workers = 2;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FinalizeLeaseTimeout = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan CancelGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>Short periods, so that what the sweep finishes is finished within a test's patience.</summary>
    private static readonly Dictionary<string, string> CoordinatorSettings = new()
    {
        ["Coordinator__SweepInterval"] = SweepInterval.ToString("c"),
        ["Coordinator__FinalizeLeaseTimeout"] = FinalizeLeaseTimeout.ToString("c"),
        ["Coordinator__CancelGracePeriod"] = CancelGracePeriod.ToString("c"),
    };

    private readonly JobCluster _cluster = new(infrastructure, output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_cancelled_job_keeps_the_shards_committed_before_the_cancel_and_accounts_for_every_image()
    {
        const int shardSize = 4;
        var photos = JobCluster.Photos(0, 120);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var coordinator = await StartCoordinatorAndWorkersAsync(Workers);
        var client = _cluster.Client(coordinator);

        var jobId = JobId(await _cluster.SubmitAsync(coordinator, dataset, shardSize));
        await _cluster.WaitUntilAsync(coordinator, jobId, j => ShardsDone(j) >= 2, interval: TimeSpan.FromMilliseconds(100));
        var sinceCancel = Stopwatch.StartNew();
        using (var response = await client.PostAsync($"jobs/{jobId}/cancel", null))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /jobs/{jobId}/cancel answered {(int)response.StatusCode}: {body}");
            var accepted = JsonNode.Parse(body)!;
            Assert.Equal(jobId, JobId(accepted));
            Assert.Contains(JobCluster.Status(accepted), new[] { "Cancelling", "Cancelled" });
        }

        var job = await _cluster.WaitForTerminalStatusAsync(coordinator, jobId, TimeSpan.FromSeconds(15));
        output.WriteLine($"Cancelled {sinceCancel.Elapsed.TotalSeconds:F1} s after the cancel request");
        Assert.Equal("Cancelled", JobCluster.Status(job));

        using (var again = await client.PostAsync($"jobs/{jobId}/cancel", null))
        {
            var body = await again.Content.ReadAsStringAsync();
            Assert.True(again.StatusCode == HttpStatusCode.Accepted, $"a second cancel answered {(int)again.StatusCode}: {body}");
            Assert.Equal("Cancelled", JobCluster.Status(JsonNode.Parse(body)!));
        }

        var paths = Paths(await JobCluster.DownloadLinesAsync(_cluster.Results, $"{jobId:N}/predictions.jsonl"));
        var summary = await JobCluster.DownloadJsonAsync(_cluster.Results, $"{jobId:N}/summary.json");
        AssertNoDuplicates(paths);
        Assert.Subset(JobCluster.ExpectedPaths(photos).ToHashSet(StringComparer.Ordinal), paths.ToHashSet(StringComparer.Ordinal));
        var ok = summary["imagesOk"]!.GetValue<long>();
        var failed = summary["imagesFailed"]!.GetValue<long>();
        var notClassified = summary["imagesNotClassified"]!.GetValue<long>();
        var planned = summary["imagesPlanned"]!.GetValue<long>();
        output.WriteLine($"{paths.Count} lines: {ok} ok, {failed} failed, {notClassified} not classified of {planned} planned");
        Assert.Equal("Cancelled", summary["status"]!.GetValue<string>());
        Assert.Equal(photos.Count, planned);
        Assert.Equal(ok + failed, paths.Count);
        Assert.True(notClassified > 0, "a job cancelled early left no image unclassified");
        Assert.Equal(planned, ok + failed + notClassified);
        Assert.Equal(notClassified, job["imagesNotClassified"]!.GetValue<long>());
        // Only whole shards are merged, and at least the two committed before the cancel.
        Assert.True(paths.Count % shardSize == 0, $"{paths.Count} lines are not whole shards of {shardSize}");
        Assert.True(paths.Count >= 2 * shardSize, $"{paths.Count} lines: the shards committed before the cancel are missing");

        var cancelled = JsonNode.Parse(await client.GetStringAsync("jobs?status=Cancelled&limit=10"))!;
        Assert.Contains(jobId, cancelled["items"]!.AsArray().Select(i => JobId(i!)));
    }

    [Fact]
    public async Task A_high_priority_job_overtakes_the_queued_shards_of_a_low_priority_one()
    {
        const int prefetch = 1;
        const int concurrency = 1;
        var lowPhotos = JobCluster.Photos(120, 150);
        var highPhotos = JobCluster.Photos(270, 10);
        var lowDataset = await _cluster.UploadDatasetAsync(lowPhotos, folder: "low");
        var highDataset = await _cluster.UploadDatasetAsync(highPhotos, folder: "high");

        // No worker yet: every shard of both jobs waits in the queue, the low ones sent first.
        var coordinator = await _cluster.StartAsync(JobCluster.Coordinator, "coordinator", CoordinatorSettings);
        var low = JobId(await _cluster.SubmitAsync(coordinator, lowDataset, shardSize: 5, new JsonObject { ["priority"] = "low" }));
        var lowDispatched = await _cluster.WaitUntilAsync(coordinator, low, j => j["dispatchedAt"] is not null, interval: TimeSpan.FromMilliseconds(200));
        Assert.Equal(30, lowDispatched["shards"]!.GetValue<int>());
        var high = JobId(await _cluster.SubmitAsync(coordinator, highDataset, shardSize: 5, new JsonObject { ["priority"] = "high" }));
        var highDispatched = await _cluster.WaitUntilAsync(coordinator, high, j => j["dispatchedAt"] is not null, interval: TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, highDispatched["shards"]!.GetValue<int>());

        var workerSettings = new Dictionary<string, string>
        {
            ["Worker__PrefetchCount"] = prefetch.ToString(),
            ["Worker__ConcurrentShards"] = concurrency.ToString(),
        };
        await StartWorkersAsync(Workers, workerSettings);

        // The low job's progress when the high one's shards are all done (before its merge, which low shards may
        // overlap): at most what the workers had taken before the high shards were first in line, plus a margin for
        // the poll. The low job is read just before the high one, so that a loaded machine's slow reads do not let
        // low shards that finished after the high ones into the count.
        var deadline = DateTime.UtcNow + JobCluster.JobTimeout;
        JsonNode highJob;
        int lowDoneWhenHighFinished;
        while (true)
        {
            var lowDone = ShardsDone(await _cluster.GetJobAsync(coordinator, low));
            highJob = await _cluster.GetJobAsync(coordinator, high);
            if (ShardsDone(highJob) >= 2 || JobCluster.IsTerminal(highJob))
            {
                lowDoneWhenHighFinished = lowDone;
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the high-priority job did not finish: {highJob.ToJsonString()}{Environment.NewLine}{_cluster.Logs}");
            await Task.Delay(50);
        }

        highJob = await _cluster.WaitForTerminalStatusAsync(coordinator, high);

        var bound = (Workers * (prefetch + concurrency)) + 2;
        output.WriteLine($"high job's shards done when the low job had {lowDoneWhenHighFinished} of 30 shards done (bound {bound})");
        Assert.Equal("Completed", JobCluster.Status(highJob));
        Assert.True(
            lowDoneWhenHighFinished <= bound,
            $"the high-priority job's shards were done only after {lowDoneWhenHighFinished} low-priority shards (at most {bound} expected): its shards did not go first");

        var lowJob = await _cluster.WaitForTerminalStatusAsync(coordinator, low);
        Assert.Equal("Completed", JobCluster.Status(lowJob));
        Assert.True(
            highJob["completedAt"]!.GetValue<DateTimeOffset>() < lowJob["completedAt"]!.GetValue<DateTimeOffset>(),
            $"high completed at {highJob["completedAt"]}, low at {lowJob["completedAt"]}");
        await AssertEachImageOnceAsync($"{high:N}/predictions.jsonl", highPhotos);
        await AssertEachImageOnceAsync($"{low:N}/predictions.jsonl", lowPhotos);
    }

    [Fact]
    public async Task A_merge_interrupted_by_a_killed_coordinator_is_finished_by_the_next_one()
    {
        // One image per shard: the merge reads 300 shard results one after the other, long enough to be caught.
        var photos = JobCluster.Photos(300, 300);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var coordinator = await StartCoordinatorAndWorkersAsync(Workers);
        var jobId = JobId(await _cluster.SubmitAsync(coordinator, dataset, shardSize: 1));
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} job {jobId} submitted");

        var lease = _cluster.State.GetBlobClient($"leases/{jobId:N}.json");
        var summary = _cluster.Results.GetBlobClient($"{jobId:N}/summary.json");
        var raceLost = $"The merge of job {jobId} ended before the test could kill the coordinator in it (the lease is polled every ~10 ms); " +
            "enlarge the job (more shards of one image) so that its merge takes longer.";
        var deadline = DateTime.UtcNow + JobCluster.JobTimeout;
        for (var polls = 1; ; polls++)
        {
            if (await lease.ExistsAsync())
            {
                coordinator.Kill();
                break;
            }

            if (polls % 100 == 0)
            {
                Assert.False(await summary.ExistsAsync(), raceLost);
                Assert.False(coordinator.HasExited, $"the coordinator exited by itself:{Environment.NewLine}{_cluster.Logs}");
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"No merge of job {jobId} started within {JobCluster.JobTimeout}:{Environment.NewLine}{_cluster.Logs}");
                }
            }

            await Task.Delay(10);
        }

        var record = await JobCluster.DownloadJsonAsync(_cluster.State, $"jobs/{jobId:N}.json");
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} coordinator killed while merging; state record status {record["status"]}");
        Assert.False(await summary.ExistsAsync(), raceLost);
        Assert.Contains(record["status"]!.GetValue<string>(), new[] { "Running", "Submitted" });
        Assert.True(await lease.ExistsAsync(), "the killed coordinator's merge lease is gone: it was not killed while merging");
        var deadHolder = JsonNode.Parse((await lease.DownloadContentAsync()).Value.Content.ToString())!["owner"]!.GetValue<string>();
        await _cluster.StopAsync(coordinator);

        // The dead coordinator's lease goes stale, the next sweep takes it over and merges again: the lease timeout plus
        // two sweep intervals plus the merge, counted from when the next coordinator is up.
        var second = await _cluster.StartAsync(JobCluster.Coordinator, "coordinator-2", CoordinatorSettings);
        var sinceRestart = Stopwatch.StartNew();
        JsonNode job;
        try
        {
            // The lease goes stale 4 s after the kill; the merge re-reads 300 outcomes and 300 shard results from
            // Azurite, which takes seconds on an idle machine and much longer on a loaded CI runner.
            job = await _cluster.WaitForTerminalStatusAsync(second, jobId, TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException e)
        {
            var holder = await lease.ExistsAsync() ? (await lease.DownloadContentAsync()).Value.Content.ToString() : "none";
            var diagnosis = holder.Contains(deadHolder, StringComparison.Ordinal)
                ? "the next coordinator never took over the killed one's stale merge lease"
                : "the next coordinator took the merge over but did not finish it";
            throw new TimeoutException($"{DateTime.UtcNow:HH:mm:ss.fff} {diagnosis}; merge lease now: {holder}{Environment.NewLine}{e.Message}", e);
        }

        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} finished by the next coordinator {sinceRestart.Elapsed.TotalSeconds:F1} s after it was ready");
        Assert.Equal("Completed", JobCluster.Status(job));
        await AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        var written = await JobCluster.DownloadJsonAsync(_cluster.Results, $"{jobId:N}/summary.json");
        Assert.Equal(photos.Count, written["imagesOk"]!.GetValue<long>());
        // The lease is released just after the record is written as Completed.
        var released = Stopwatch.StartNew();
        while (await lease.ExistsAsync())
        {
            Assert.True(released.Elapsed < TimeSpan.FromSeconds(10), "the merge lease was not released after the merge");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_job_submitted_while_the_broker_is_down_runs_once_the_broker_is_back()
    {
        // Before anything else: a test that cannot stop the broker fails here, with the reason.
        var broker = BrokerControl.For(infrastructure);
        var photos = JobCluster.Photos(600, 24);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var hosts = await _cluster.StartAllAsync(
            (JobCluster.Coordinator, "coordinator", CoordinatorSettings),
            (JobCluster.Worker, "worker-a", null),
            (JobCluster.Worker, "worker-b", null));
        var coordinator = hosts[0];

        Guid jobId;
        try
        {
            await broker.StopAsync();
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} broker stopped ({broker.Description})");
            var submitting = Stopwatch.StartNew();
            using var response = await _cluster.PostJobAsync(coordinator, dataset, shardSize: 4);
            submitting.Stop();
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"POST /jobs answered {(int)response.StatusCode} in {submitting.Elapsed.TotalSeconds:F1} s with the broker down");
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /jobs answered {(int)response.StatusCode}: {body}");
            Assert.True(submitting.Elapsed < TimeSpan.FromSeconds(10), $"POST /jobs took {submitting.Elapsed} with the broker down");
            var accepted = JsonNode.Parse(body)!;
            Assert.Equal("Submitted", JobCluster.Status(accepted));
            jobId = JobId(accepted);

            // At least one sweep passes while the broker is down; the job waits, stored.
            await Task.Delay(2 * SweepInterval);
            Assert.Equal("Submitted", JobCluster.Status(await _cluster.GetJobAsync(coordinator, jobId)));
        }
        finally
        {
            await broker.StartAsync(TimeSpan.FromMinutes(1));
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} broker started again");
        }

        var job = await _cluster.WaitForTerminalStatusAsync(coordinator, jobId, TimeSpan.FromSeconds(90));
        Assert.Equal("Completed", JobCluster.Status(job));
        await AssertEachImageOnceAsync($"{jobId:N}/predictions.jsonl", photos);
        Assert.All(hosts, h => Assert.False(h.HasExited, $"a host on port {h.Port} exited while the broker was down:{Environment.NewLine}{h.Output}"));
    }

    [Fact]
    public async Task A_job_may_not_write_into_another_jobs_output_or_the_state_unless_it_overwrites_a_finished_job()
    {
        var photosA = JobCluster.Photos(640, 16);
        var photosD = JobCluster.Photos(660, 16);
        var datasetA = await _cluster.UploadDatasetAsync(photosA, folder: "a");
        var datasetD = await _cluster.UploadDatasetAsync(photosD, folder: "d");
        var shared = $"{_cluster.OutputLocation}/shared-out";

        // No worker yet, so that job A is certainly unfinished while its output is contested.
        var coordinator = await _cluster.StartAsync(JobCluster.Coordinator, "coordinator", CoordinatorSettings);
        var a = JobId(await _cluster.SubmitAsync(coordinator, datasetA, shardSize: 4, new JsonObject { ["output"] = shared }));
        await AssertOutputRefusedAsync(coordinator, datasetD, shared, owner: a);
        await AssertOutputRefusedAsync(coordinator, datasetD, $"{shared}/sub", owner: a);
        await AssertOutputRefusedAsync(coordinator, datasetD, _cluster.OutputLocation, owner: a);
        await AssertOutputRefusedAsync(coordinator, datasetD, shared, owner: a, overwrite: true);
        await AssertOutputRefusedAsync(coordinator, datasetD, _cluster.StateLocation, owner: null);
        await AssertOutputRefusedAsync(coordinator, datasetD, $"{_cluster.StateLocation}/jobs", owner: null);
        var listed = JsonNode.Parse(await _cluster.Client(coordinator).GetStringAsync("jobs"))!["items"]!.AsArray();
        Assert.Equal([a], listed.Select(i => JobId(i!)).ToArray());

        await StartWorkersAsync(Workers);
        Assert.Equal("Completed", JobCluster.Status(await _cluster.WaitForTerminalStatusAsync(coordinator, a)));
        await AssertEachImageOnceAsync("shared-out/predictions.jsonl", photosA);
        // Finished, but not to be replaced without asking.
        await AssertOutputRefusedAsync(coordinator, datasetD, shared, owner: a);

        var d = JobId(await _cluster.SubmitAsync(coordinator, datasetD, shardSize: 4, new JsonObject { ["output"] = shared, ["overwrite"] = true }));
        Assert.Equal("Completed", JobCluster.Status(await _cluster.WaitForTerminalStatusAsync(coordinator, d)));
        await AssertEachImageOnceAsync("shared-out/predictions.jsonl", photosD);
        var summary = await JobCluster.DownloadJsonAsync(_cluster.Results, "shared-out/summary.json");
        Assert.Equal(d, summary["jobId"]!.GetValue<Guid>());
        Assert.Equal(photosD.Count, summary["imagesOk"]!.GetValue<long>());
    }

    private async Task<HostProcess> StartCoordinatorAndWorkersAsync(int workers)
    {
        var hosts = await _cluster.StartAllAsync(
            [(JobCluster.Coordinator, "coordinator", CoordinatorSettings), .. WorkerHosts(workers, null)]);
        return hosts[0];
    }

    private async Task StartWorkersAsync(int workers, IReadOnlyDictionary<string, string>? settings = null) =>
        await _cluster.StartAllAsync([.. WorkerHosts(workers, settings)]);

    private static IEnumerable<(string, string, IReadOnlyDictionary<string, string>?)> WorkerHosts(int workers, IReadOnlyDictionary<string, string>? settings) =>
        Enumerable.Range(0, workers).Select(i => (JobCluster.Worker, $"worker-{(char)('a' + i)}", settings));

    /// <summary>A submission whose output overlaps <paramref name="owner"/>'s (or the state, when null) is refused with a
    /// problem naming the owner, and leaves no job behind.</summary>
    private async Task AssertOutputRefusedAsync(HostProcess coordinator, string dataset, string outputLocation, Guid? owner, bool overwrite = false)
    {
        using var response = await _cluster.PostJobAsync(coordinator, dataset, shardSize: 4, new JsonObject { ["output"] = outputLocation, ["overwrite"] = overwrite });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Conflict, $"output {outputLocation} (overwrite {overwrite}): POST /jobs answered {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        var detail = problem["detail"]!.GetValue<string>();
        if (owner is { } id)
        {
            Assert.Contains(id.ToString(), detail, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(id, problem["conflictingJobId"]!.GetValue<Guid>());
        }
        else
        {
            Assert.Contains("state", detail, StringComparison.OrdinalIgnoreCase);
            Assert.Null(problem["conflictingJobId"]);
        }
    }

    private async Task AssertEachImageOnceAsync(string predictionsKey, IReadOnlyList<string> photos)
    {
        var paths = Paths(await JobCluster.DownloadLinesAsync(_cluster.Results, predictionsKey));
        AssertNoDuplicates(paths);
        Assert.Equal(JobCluster.ExpectedPaths(photos), paths.Order(StringComparer.Ordinal).ToList());
    }

    private static void AssertNoDuplicates(IEnumerable<string> paths)
    {
        var duplicates = paths.GroupBy(p => p, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        Assert.True(duplicates.Count == 0, $"images predicted more than once: {string.Join(", ", duplicates)}");
    }

    private static List<string> Paths(IEnumerable<string> lines) =>
        lines.Select(l => JsonNode.Parse(l)!["path"]!.GetValue<string>()).ToList();

    private static Guid JobId(JsonNode job) => job["jobId"]!.GetValue<Guid>();

    private static int ShardsDone(JsonNode job) => job["progress"]!["shardsDone"]!.GetValue<int>();
}
