using System.Text.Json.Nodes;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet schedules …</c> as a user runs them, against a real coordinator process (in-memory transport,
/// file-system state: no services needed).</summary>
public sealed class SchedulesCliTests : IAsyncLifetime
{
    private const string ApiKey = "schedules-cli-admin-key";
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-schedules-cli-").FullName;
    private HostProcess? _coordinator;

    public async Task InitializeAsync()
    {
        _coordinator = HostProcess.Start(JobCluster.Coordinator, new Dictionary<string, string>
        {
            ["Messaging__Transport"] = "InMemory",
            ["Coordinator__StateLocation"] = Path.Combine(_work, "state"),
            ["Coordinator__OutputLocation"] = Path.Combine(_work, "results"),
            ["Coordinator__AllowedDatasets__0"] = _work,
            ["Auth__ApiKeys__0__Name"] = "cli",
            ["Auth__ApiKeys__0__Sha256"] = JobCluster.Sha256Hex(ApiKey),
            ["Auth__ApiKeys__0__Scopes__0"] = "admin",
        });
        await _coordinator.WaitUntilReadyAsync(TimeSpan.FromMinutes(2));
    }

    public async Task DisposeAsync()
    {
        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    private async Task<(int ExitCode, string Out, string Error)> EffnetAsync(params string[] args) =>
        await Effnet.RunAsync(new Dictionary<string, string> { ["EFFNET_API_KEY"] = ApiKey }, [.. args, "--coordinator", _coordinator!.BaseAddress.ToString()]);

    [Fact]
    public async Task A_schedule_is_added_listed_shown_paused_resumed_triggered_and_removed_from_the_command_line()
    {
        var dataset = Path.Combine(_work, "photos");
        Directory.CreateDirectory(dataset);
        File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(dataset, "a.jpg"));

        var added = await EffnetAsync(
            "schedules", "add", "--name", "nightly", "--dataset", dataset, "--model", "efficientnet_b0", "--random-weights",
            "--cron", "30 2 * * *", "--time-zone", "Europe/Berlin", "--overlap", "wait");
        Assert.True(added.ExitCode == 0, $"exit {added.ExitCode}: {added.Out}{added.Error}");
        var schedule = JsonNode.Parse(added.Out)!;
        var id = schedule["id"]!.GetValue<string>();
        Assert.NotNull(schedule["nextDueAt"]);

        var list = await EffnetAsync("schedules", "list", "--json");
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains(id, list.Out, StringComparison.Ordinal);

        var paused = await EffnetAsync("schedules", "pause", id);
        Assert.True(paused.ExitCode == 0, paused.Error);
        Assert.True(JsonNode.Parse(paused.Out)!["paused"]!.GetValue<bool>());
        var resumed = await EffnetAsync("schedules", "resume", id);
        Assert.False(JsonNode.Parse(resumed.Out)!["paused"]!.GetValue<bool>());

        var triggered = await EffnetAsync("schedules", "trigger", id);
        Assert.True(triggered.ExitCode == 0, triggered.Error);
        var jobId = JsonNode.Parse(triggered.Out)!["jobId"]!.GetValue<string>();
        var shown = JsonNode.Parse((await EffnetAsync("schedules", "show", id)).Out)!;
        Assert.Contains(shown["recentRuns"]!.AsArray(), r => r!["jobId"]?.GetValue<string>() == jobId);
        using var http = new HttpClient { BaseAddress = _coordinator!.BaseAddress };
        http.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
        var job = JsonNode.Parse(await http.GetStringAsync($"jobs/{jobId}"))!;
        Assert.Equal(id, job["scheduleId"]!.GetValue<string>());
        Assert.NotNull(job["dueAt"]);

        var bad = await EffnetAsync("schedules", "add", "--name", "x", "--dataset", dataset, "--model", "efficientnet_b0", "--cron", "61 * * * *");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("cron", bad.Error, StringComparison.OrdinalIgnoreCase);

        var removed = await EffnetAsync("schedules", "remove", id);
        Assert.True(removed.ExitCode == 0, removed.Error);
        Assert.NotEqual(0, (await EffnetAsync("schedules", "show", id)).ExitCode);
        Assert.DoesNotContain(id, (await EffnetAsync("schedules", "list", "--json")).Out, StringComparison.Ordinal);
    }
}
