using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// Firing a schedule exactly once across a crash: a coordinator process with a schedule due every 10 s is killed
/// (SIGKILL) just after it decided a due time (its run record appears in the state store), and a new coordinator process
/// is started over the same state. Every due time has at most one job, and the one the killed coordinator decided has
/// exactly one, under the id derived from (schedule, due time). Real RabbitMQ, Azurite and worker process.
/// </summary>
[Collection(InfrastructureCollection.Name)]
[Trait("Category", "Fault")]
public sealed class ScheduleFaultTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly Dictionary<string, string> CoordinatorSettings = new()
    {
        ["Schedules__TickInterval"] = "00:00:01",
        ["Coordinator__SweepInterval"] = "00:00:02",
    };

    private readonly JobCluster _cluster = new(infrastructure, output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_coordinator_killed_just_after_a_due_time_leaves_exactly_one_job_for_it_after_the_restart()
    {
        var dataset = await _cluster.UploadDatasetAsync(JobCluster.Photos(0, 2));
        var hosts = await _cluster.StartAllAsync(
            (JobCluster.Coordinator, "coordinator", CoordinatorSettings), (JobCluster.Worker, "worker-a", null));
        var coordinator = hosts[0];
        using var created = await _cluster.Client(coordinator).PostAsJsonAsync("schedules", new
        {
            name = "every ten seconds",
            dataset,
            model = "efficientnet_b0",
            cron = "*/10 * * * * *",
            randomWeights = true,
            overlap = "wait",
        });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /schedules answered {(int)created.StatusCode}: {body}");
        var scheduleId = JsonNode.Parse(body)!["id"]!.GetValue<Guid>();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} schedule {scheduleId} created");

        // Kill the coordinator the moment a due time's decision (a run that has a job) appears: between the decision
        // and its job, or just after.
        var prefix = $"schedule-runs/{scheduleId:N}/";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? killedRun = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (killedRun is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no run of schedule {scheduleId} was decided within 2 minutes:{Environment.NewLine}{_cluster.Logs}");
            await foreach (var blob in _cluster.State.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, CancellationToken.None))
            {
                if (seen.Add(blob.Name) && (await JobCluster.DownloadJsonAsync(_cluster.State, blob.Name))["jobId"] is not null)
                {
                    coordinator.Kill();
                    killedRun = blob.Name;
                    break;
                }
            }

            await Task.Delay(10);
        }

        var decided = await JobCluster.DownloadJsonAsync(_cluster.State, killedRun);
        var dueAt = decided["dueAt"]!.GetValue<DateTimeOffset>();
        var jobId = decided["jobId"]!.GetValue<Guid>();
        var jobExisted = await _cluster.State.GetBlobClient($"jobs/{jobId:N}.json").ExistsAsync();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} coordinator killed after deciding {dueAt:O} (job {jobId}; job stored before the kill: {jobExisted.Value})");
        await _cluster.StopAsync(coordinator);

        var restarted = await _cluster.StartAsync(JobCluster.Coordinator, "coordinator-2", CoordinatorSettings);

        // The restarted coordinator finds the decision and its job (creating it under the derived id when the kill came
        // first); the run ends, and the due time waiting for it (overlap "wait") then gets its own job.
        // The job may not exist until the restarted coordinator's first tick has run, so 404 means "not yet" here.
        var client = _cluster.Client(restarted);
        var appearBy = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            using (var probe = await client.GetAsync($"jobs/{jobId}"))
            {
                if (probe.StatusCode != HttpStatusCode.NotFound)
                {
                    break;
                }
            }

            Assert.True(DateTime.UtcNow < appearBy, $"the restarted coordinator created no job {jobId} for the decided run within a minute:{Environment.NewLine}{_cluster.Logs}");
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        await _cluster.WaitForTerminalStatusAsync(restarted, jobId, TimeSpan.FromMinutes(4));
        var jobs = await SchedulesJobsAsync(restarted, scheduleId);
        for (var wait = 0; jobs.Count < 2 && wait < 120; wait++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            jobs = await SchedulesJobsAsync(restarted, scheduleId);
        }

        output.WriteLine(string.Join(Environment.NewLine, jobs.Select(j => $"{j["dueAt"]} {j["jobId"]} {j["status"]}")));
        var forKilled = Assert.Single(jobs, j => j["dueAt"]!.GetValue<DateTimeOffset>() == dueAt);
        Assert.Equal(jobId, forKilled["jobId"]!.GetValue<Guid>());
        Assert.All(jobs.GroupBy(j => j["dueAt"]!.GetValue<DateTimeOffset>()), g => Assert.Single(g));
        Assert.True(jobs.Count >= 2, $"the restarted coordinator fired no later due time:{Environment.NewLine}{_cluster.Logs}");
        var view = JsonNode.Parse(await _cluster.Client(restarted).GetStringAsync($"schedules/{scheduleId}"))!;
        foreach (var run in view["recentRuns"]!.AsArray().Where(r => r!["jobId"] is not null && r["status"]!.GetValue<string>() != "NotStarted"))
        {
            Assert.Contains(jobs, j => j["jobId"]!.GetValue<Guid>() == run!["jobId"]!.GetValue<Guid>());
        }
    }

    private async Task<List<JsonNode>> SchedulesJobsAsync(HostProcess coordinator, Guid scheduleId)
    {
        var page = JsonNode.Parse(await _cluster.Client(coordinator).GetStringAsync("jobs?limit=1000"))!;
        return [.. page["items"]!.AsArray().Select(j => j!).Where(j => j["scheduleId"]?.GetValue<string>() == scheduleId.ToString())];
    }
}
