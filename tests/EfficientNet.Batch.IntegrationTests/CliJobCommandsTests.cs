using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet jobs list</c>, <c>cancel</c>, <c>submit --wait</c> and <c>status --watch</c> as a user runs them, against a fake
/// coordinator that answers the job routes with the shared DTOs as the real one writes them.</summary>
public sealed class CliJobCommandsTests : IAsyncLifetime
{
    private static readonly Guid Known = Guid.Parse("0a000000-0000-0000-0000-00000000000a");
    private static readonly Guid Older = Guid.Parse("0b000000-0000-0000-0000-00000000000b");

    private readonly FakeCoordinator _coordinator = new();

    public Task InitializeAsync() => _coordinator.StartAsync();

    public Task DisposeAsync() => _coordinator.DisposeAsync().AsTask();

    private Task<(int ExitCode, string Out, string Error)> EffnetAsync(params string[] args) =>
        Effnet.RunAsync(new Dictionary<string, string>(), [.. args, "--coordinator", _coordinator.Url]);

    [Fact]
    public async Task Jobs_list_prints_a_row_per_job_and_passes_the_filters_on()
    {
        var (exitCode, stdout, stderr) = await EffnetAsync("jobs", "list", "--status", "running", "--limit", "2", "--cursor", "page 2/x");

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        var request = Assert.Single(_coordinator.Requests);
        Assert.Equal("GET /jobs?status=Running&limit=2&cursor=page%202%2Fx", request);
        var rows = stdout.Split('\n');
        Assert.Contains(rows, r => r.Contains(Known.ToString(), StringComparison.Ordinal) && r.Contains("Running", StringComparison.Ordinal)
            && r.Contains("efficientnet_b3", StringComparison.Ordinal) && r.Contains("high", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains(Older.ToString(), StringComparison.Ordinal) && r.Contains("Completed", StringComparison.Ordinal));
        Assert.Contains("--cursor next-page", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("submit", "az://datasets/photos", "--model", "efficientnet_b0")]
    [InlineData("status", "5f0c1a4e-0000-4000-8000-000000000001")]
    [InlineData("cancel", "5f0c1a4e-0000-4000-8000-000000000001")]
    [InlineData("jobs", "list")]
    public async Task Every_coordinator_command_sends_the_api_key_from_the_environment_or_the_flag(params string[] command)
    {
        await Effnet.RunAsync(new Dictionary<string, string> { ["EFFNET_API_KEY"] = "from-environment" }, [.. command, "--coordinator", _coordinator.Url]);
        await Effnet.RunAsync(new Dictionary<string, string> { ["EFFNET_API_KEY"] = "from-environment" }, [.. command, "--coordinator", _coordinator.Url, "--api-key", "from-flag"]);

        Assert.Equal(["from-environment", "from-flag"], _coordinator.ApiKeys.ToArray());
    }

    [Fact]
    public async Task Jobs_list_refuses_a_status_that_does_not_exist()
    {
        var (exitCode, _, stderr) = await EffnetAsync("jobs", "list", "--status", "Paused");

        Assert.Equal(2, exitCode);
        Assert.Contains("Paused", stderr, StringComparison.Ordinal);
        Assert.Empty(_coordinator.Requests);
    }

    [Fact]
    public async Task Submit_posts_a_job_request_with_its_priority_and_overwrite()
    {
        var (exitCode, stdout, stderr) = await EffnetAsync("submit", "az://datasets/photos", "--model", "efficientnet_b3", "--priority", "high", "--overwrite", "--top", "3");

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Equal("POST /jobs", Assert.Single(_coordinator.Requests));
        var body = JsonNode.Parse(Assert.Single(_coordinator.Bodies))!;
        Assert.Equal("az://datasets/photos", body["dataset"]!.GetValue<string>());
        Assert.Equal("efficientnet_b3", body["model"]!.GetValue<string>());
        Assert.Equal("high", body["priority"]!.GetValue<string>());
        Assert.True(body["overwrite"]!.GetValue<bool>());
        Assert.Equal(3, body["topK"]!.GetValue<int>());
        Assert.Null(body["shardSize"]);
        Assert.Contains(Known.ToString(), stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_posts_to_the_job_and_prints_the_answer()
    {
        var (exitCode, stdout, stderr) = await EffnetAsync("cancel", Known.ToString());

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Equal($"POST /jobs/{Known}/cancel", Assert.Single(_coordinator.Requests));
        Assert.Contains("Cancelling", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_of_an_unknown_job_exits_2_with_the_coordinators_reason()
    {
        var unknown = Guid.NewGuid();

        var (exitCode, _, stderr) = await EffnetAsync("cancel", unknown.ToString());

        Assert.Equal(2, exitCode);
        Assert.Contains("404", stderr, StringComparison.Ordinal);
        Assert.Contains($"No job {unknown}", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JobStatus.Cancelled, 130)]
    [InlineData(JobStatus.Completed, 0)]
    [InlineData(JobStatus.CompletedWithErrors, 4)]
    [InlineData(JobStatus.Failed, 1)]
    public async Task Status_watch_follows_the_job_and_exits_with_its_outcome(JobStatus outcome, int expected)
    {
        _coordinator.Answers(Known, JobStatus.Running, outcome);

        var (exitCode, stdout, stderr) = await EffnetAsync("status", Known.ToString(), "--watch");

        Assert.True(exitCode == expected, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Equal(2, _coordinator.Requests.Count(r => r == $"GET /jobs/{Known}"));
        Assert.Contains("progress: Running: 40/100 images", stderr, StringComparison.Ordinal);
        Assert.Contains($"Job {Known} {outcome}", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JobStatus.Completed, 0)]
    [InlineData(JobStatus.CompletedWithErrors, 4)]
    [InlineData(JobStatus.Failed, 1)]
    public async Task Submit_wait_follows_the_submitted_job_and_exits_with_its_outcome(JobStatus outcome, int expected)
    {
        _coordinator.Answers(Known, JobStatus.Running, outcome);

        var (exitCode, stdout, stderr) = await EffnetAsync("submit", "az://datasets/photos", "--model", "efficientnet_b3", "--wait");

        Assert.True(exitCode == expected, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Equal(["POST /jobs", $"GET /jobs/{Known}", $"GET /jobs/{Known}"], _coordinator.Requests.ToArray());
        Assert.Contains($"\"jobId\": \"{Known}\"", stdout, StringComparison.Ordinal);
        Assert.Contains($"Job {Known} {outcome}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_adds_the_exception_after_the_error_line_from_the_flag_or_the_environment()
    {
        string[] command = ["status", Known.ToString(), "--coordinator", "http://127.0.0.1:9"];

        var flag = await Effnet.RunAsync(new Dictionary<string, string>(), [.. command, "--verbose"]);
        var environment = await Effnet.RunAsync(new Dictionary<string, string> { ["EFFNET_VERBOSE"] = "1" }, command);

        foreach (var (exitCode, _, stderr) in new[] { flag, environment })
        {
            Assert.Equal(5, exitCode);
            Assert.StartsWith("error: cannot reach the coordinator at http://127.0.0.1:9", stderr, StringComparison.Ordinal);
            Assert.Contains("System.Net.Http.HttpRequestException", stderr, StringComparison.Ordinal);
            Assert.Contains("   at ", stderr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("jobs", "list")]
    [InlineData("cancel", "0a000000-0000-0000-0000-00000000000a")]
    [InlineData("status", "0a000000-0000-0000-0000-00000000000a", "--watch")]
    [InlineData("submit", "az://data/x", "--model", "efficientnet_b0")]
    public async Task An_unreachable_coordinator_is_one_error_line_and_exit_5(params string[] command)
    {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
        var (exitCode, _, stderr) = await Effnet.RunAsync(new Dictionary<string, string>(), [.. command, "--coordinator", "http://127.0.0.1:9"]);

        Assert.Equal(5, exitCode);
        Assert.Contains("error: cannot reach the coordinator at http://127.0.0.1:9", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    /// <summary>The coordinator's job routes on a free loopback port, answering canned jobs and recording each request.</summary>
    private sealed class FakeCoordinator : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<Guid, ConcurrentQueue<JobStatus>> _statuses = new();
        private WebApplication? _app;

        public ConcurrentQueue<string> Requests { get; } = new();

        public ConcurrentQueue<string> Bodies { get; } = new();

        /// <summary>The X-API-Key header of each request ("" when absent).</summary>
        public ConcurrentQueue<string> ApiKeys { get; } = new();

        public string Url => _app!.Urls.First();

        /// <summary>GET /jobs/{id} answers these statuses in turn, then keeps the last one.</summary>
        public void Answers(Guid jobId, params JobStatus[] statuses) => _statuses[jobId] = new ConcurrentQueue<JobStatus>(statuses);

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
            builder.Services.AddProblemDetails();
            _app = builder.Build();
            _app.Use((context, next) =>
            {
                Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
                ApiKeys.Enqueue(context.Request.Headers["X-API-Key"].ToString());
                return next(context);
            });
            _app.MapPost("/jobs", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                Bodies.Enqueue(await reader.ReadToEndAsync());
                return Results.Accepted($"/jobs/{Known}", View(Known, JobStatus.Submitted));
            });
            _app.MapGet("/jobs", () => TypedResults.Ok(new JobListPage(
                [Item(Known, JobStatus.Running, null), Item(Older, JobStatus.Completed, DateTimeOffset.UtcNow)],
                "next-page")));
            _app.MapGet("/jobs/{id:guid}", (Guid id) => _statuses.TryGetValue(id, out var statuses)
                ? Results.Ok(View(id, Next(statuses)))
                : NotFound(id));
            _app.MapPost("/jobs/{id:guid}/cancel", (Guid id) => id == Known
                ? Results.Accepted($"/jobs/{id}", new CancelAccepted(id, JobStatus.Cancelling))
                : NotFound(id));
            await _app.StartAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }

        private static JobStatus Next(ConcurrentQueue<JobStatus> statuses) =>
            statuses.Count > 1 && statuses.TryDequeue(out var status) ? status : statuses.TryPeek(out var last) ? last : JobStatus.Running;

        private static IResult NotFound(Guid id) =>
            Results.Problem($"No job {id} exists (or its state was removed).", statusCode: StatusCodes.Status404NotFound, title: "Job not found.");

        private static JobListItem Item(Guid id, JobStatus status, DateTimeOffset? completedAt) =>
            new(id, status, "efficientnet_b3", "az://datasets/photos", $"az://results/{id:N}", JobPriority.High, 100, DateTimeOffset.UtcNow.AddMinutes(-5), completedAt);

        private static JobView View(Guid id, JobStatus status)
        {
            var ended = status.IsTerminal();
            return new JobView(
                id, status, "efficientnet_b3", "az://datasets/photos", $"az://results/{id:N}", JobPriority.High,
                Images: 100, Shards: 4, ShardsDone: ended ? 4 : 2, ImagesOk: ended ? 90 : 40, ImagesFailed: 0,
                ImagesNotClassified: status == JobStatus.Cancelled ? 10 : 0,
                SubmittedAt: DateTimeOffset.UtcNow.AddMinutes(-1), DispatchedAt: DateTimeOffset.UtcNow.AddMinutes(-1), CancelRequestedAt: null,
                CompletedAt: ended ? DateTimeOffset.UtcNow : null, Error: status == JobStatus.Failed ? "The dataset cannot be listed." : null,
                new JobProgress(ended ? 0 : 1, ended ? 0 : 1, ended ? 4 : 2, 0, 0, ended ? 90 : 40, 12.5, ended ? null : 4.8));
        }
    }
}
