using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// The schedule routes against the coordinator's real host (in process, in-memory transport, file-system state): what
/// each answers (201, 200, 202, 204, 400 naming the problem, 401, 403, 404), who sees which schedule, and that a
/// trigger makes a job that carries its schedule and due time.
/// </summary>
public sealed class SchedulesApiTests : IClassFixture<SchedulesApiTests.ScheduleCoordinator>
{
    private readonly ScheduleCoordinator _factory;

    public SchedulesApiTests(ScheduleCoordinator factory) => _factory = factory;

    public sealed class ScheduleCoordinator : WebApplicationFactory<EfficientNet.Batch.Coordinator.ProblemExceptionHandler>
    {
        public static readonly Dictionary<string, (string Key, string[] Scopes)> Keys = new()
        {
            ["alice"] = ("alice-schedules-key-0123456789", ["jobs:read", "schedules:write"]),
            ["bob"] = ("bob-schedules-key-0123456789", ["jobs:read", "schedules:write"]),
            ["reader"] = ("reader-schedules-key-0123456789", ["jobs:read"]),
            ["writer"] = ("writer-schedules-key-0123456789", ["schedules:write"]),
            ["root"] = ("root-schedules-key-0123456789", ["admin"]),
        };

        public string Work { get; } = Directory.CreateTempSubdirectory("effnet-schedules-api-").FullName;

        public string Dataset { get; }

        public ScheduleCoordinator()
        {
            Dataset = Directory.CreateDirectory(Path.Combine(Work, "data")).FullName;
            File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(Dataset, "a.jpg"));
        }

        public HttpClient ClientFor(string? keyName)
        {
            var client = CreateClient();
            if (keyName is not null)
            {
                client.DefaultRequestHeaders.Add("X-API-Key", Keys[keyName].Key);
            }

            return client;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Messaging:Transport", "InMemory");
            builder.UseSetting("Coordinator:StateLocation", Path.Combine(Work, "state"));
            builder.UseSetting("Coordinator:OutputLocation", Path.Combine(Work, "results"));
            builder.UseSetting("Coordinator:AllowedDatasets:0", Work);
            builder.UseSetting("Coordinator:AllowedOutputs:0", Path.Combine(Work, "outputs"));
            builder.UseSetting("Schedules:TickInterval", "01:00:00");
            var i = 0;
            foreach (var (name, (key, scopes)) in Keys)
            {
                builder.UseSetting($"Auth:ApiKeys:{i}:Name", name);
                builder.UseSetting($"Auth:ApiKeys:{i}:Sha256", JobCluster.Sha256Hex(key));
                for (var s = 0; s < scopes.Length; s++)
                {
                    builder.UseSetting($"Auth:ApiKeys:{i}:Scopes:{s}", scopes[s]);
                }

                i++;
            }
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing && Directory.Exists(Work))
            {
                Directory.Delete(Work, recursive: true);
            }
        }
    }

    private object Body(string cron = "0 3 * * *", string? timeZone = "Europe/Berlin", string? dataset = null) => new
    {
        name = "nightly",
        dataset = dataset ?? _factory.Dataset,
        model = "efficientnet_b0",
        cron,
        timeZone,
        randomWeights = true,
        missedRunPolicy = "skip",
        overlap = "wait",
    };

    private static async Task<JsonNode> CreateAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/schedules", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string expected)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schedule_is_created_read_listed_paused_resumed_and_removed()
    {
        using var alice = _factory.ClientFor("alice");

        var created = await CreateAsync(alice, Body());
        var id = created["id"]!.GetValue<Guid>();
        Assert.Equal("Europe/Berlin", created["timeZone"]!.GetValue<string>());
        Assert.True(created["incremental"]!.GetValue<bool>());
        Assert.Equal("Skip", created["missedRunPolicy"]!.GetValue<string>());
        Assert.Equal("Wait", created["overlap"]!.GetValue<string>());
        Assert.Equal("key:alice", created["createdBy"]!.GetValue<string>());
        var next = created["nextDueAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal(3, TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).Hour);

        var read = JsonNode.Parse(await alice.GetStringAsync($"/schedules/{id}"))!;
        Assert.Equal(next, read["nextDueAt"]!.GetValue<DateTimeOffset>());
        Assert.Empty(read["recentRuns"]!.AsArray());
        var list = JsonNode.Parse(await alice.GetStringAsync("/schedules"))!["items"]!.AsArray();
        Assert.Contains(list, s => s!["id"]!.GetValue<Guid>() == id);

        var paused = await alice.PatchAsJsonAsync($"/schedules/{id}", new { paused = true });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var pausedView = JsonNode.Parse(await paused.Content.ReadAsStringAsync())!;
        Assert.True(pausedView["paused"]!.GetValue<bool>());
        Assert.Null(pausedView["nextDueAt"]);

        var retimed = JsonNode.Parse(await (await alice.PatchAsJsonAsync($"/schedules/{id}", new { paused = false, cron = "*/10 * * * * *", timeZone = "UTC" })).Content.ReadAsStringAsync())!;
        Assert.False(retimed["paused"]!.GetValue<bool>());
        Assert.Equal("*/10 * * * * *", retimed["cron"]!.GetValue<string>());
        Assert.True(retimed["nextDueAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow < TimeSpan.FromSeconds(11));

        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/schedules/{id}")).StatusCode);
        await AssertProblemAsync(await alice.GetAsync($"/schedules/{id}"), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await alice.DeleteAsync($"/schedules/{id}"), HttpStatusCode.NotFound, id.ToString());
    }

    [Theory]
    [InlineData("0 3 * *", null, "'cron'")]
    [InlineData("0 3 * * * * *", null, "'cron'")]
    [InlineData("99 3 * * *", null, "not a valid cron expression")]
    [InlineData("0 3 * * *", "Atlantis/Capital", "Atlantis/Capital")]
    public async Task A_bad_cron_or_unknown_time_zone_is_a_400_naming_it(string cron, string? timeZone, string expected)
    {
        using var alice = _factory.ClientFor("alice");

        await AssertProblemAsync(await alice.PostAsJsonAsync("/schedules", Body(cron, timeZone)), HttpStatusCode.BadRequest, expected);
    }

    [Fact]
    public async Task A_schedule_whose_job_would_be_refused_is_a_400_naming_the_rule()
    {
        using var alice = _factory.ClientFor("alice");

        await AssertProblemAsync(await alice.PostAsJsonAsync("/schedules", Body(dataset: "/etc")), HttpStatusCode.BadRequest, "/etc");
        await AssertProblemAsync(
            await alice.PostAsJsonAsync("/schedules", new { name = "x", dataset = _factory.Dataset, model = "efficientnet_b99", cron = "0 3 * * *" }),
            HttpStatusCode.BadRequest,
            "'model'");

        var id = (await CreateAsync(alice, Body()))["id"]!.GetValue<Guid>();
        await AssertProblemAsync(await alice.PatchAsJsonAsync($"/schedules/{id}", new { cron = "every day" }), HttpStatusCode.BadRequest, "'cron'");
    }

    [Fact]
    public async Task A_trigger_is_a_202_with_a_job_that_carries_the_schedule_and_due_time()
    {
        using var alice = _factory.ClientFor("alice");
        var id = (await CreateAsync(alice, Body()))["id"]!.GetValue<Guid>();

        var response = await alice.PostAsync($"/schedules/{id}/trigger", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var triggered = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var jobId = triggered["jobId"]!.GetValue<Guid>();
        var dueAt = triggered["dueAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal($"/jobs/{jobId}", response.Headers.Location?.OriginalString);
        var job = JsonNode.Parse(await alice.GetStringAsync($"/jobs/{jobId}"))!;
        Assert.Equal(id.ToString(), job["scheduleId"]!.GetValue<string>());
        Assert.Equal(dueAt, job["dueAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal("key:alice", job["submittedBy"]!.GetValue<string>());
        var run = JsonNode.Parse(await alice.GetStringAsync($"/schedules/{id}"))!["recentRuns"]!.AsArray().Single()!;
        Assert.Equal((jobId, dueAt, "manual"), (run["jobId"]!.GetValue<Guid>(), run["dueAt"]!.GetValue<DateTimeOffset>(), run["trigger"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_schedule_is_its_creators_another_identity_gets_404_everywhere_and_an_admin_sees_all()
    {
        using var alice = _factory.ClientFor("alice");
        using var bob = _factory.ClientFor("bob");
        using var root = _factory.ClientFor("root");
        var id = (await CreateAsync(alice, Body()))["id"]!.GetValue<Guid>();

        await AssertProblemAsync(await bob.GetAsync($"/schedules/{id}"), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await bob.PatchAsJsonAsync($"/schedules/{id}", new { paused = true }), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await bob.PostAsync($"/schedules/{id}/trigger", null), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await bob.DeleteAsync($"/schedules/{id}"), HttpStatusCode.NotFound, id.ToString());
        Assert.DoesNotContain(JsonNode.Parse(await bob.GetStringAsync("/schedules"))!["items"]!.AsArray(), s => s!["id"]!.GetValue<Guid>() == id);

        Assert.Contains(JsonNode.Parse(await root.GetStringAsync("/schedules"))!["items"]!.AsArray(), s => s!["id"]!.GetValue<Guid>() == id);
        Assert.Equal(HttpStatusCode.OK, (await root.GetAsync($"/schedules/{id}")).StatusCode);
        Assert.False(JsonNode.Parse(await alice.GetStringAsync($"/schedules/{id}"))!["paused"]!.GetValue<bool>());
    }

    public static TheoryData<string, string, string> Routes() => new()
    {
        { "POST", "/schedules", "schedules:write" },
        { "GET", "/schedules", "jobs:read" },
        { "GET", $"/schedules/{Guid.Empty}", "jobs:read" },
        { "PATCH", $"/schedules/{Guid.Empty}", "schedules:write" },
        { "DELETE", $"/schedules/{Guid.Empty}", "schedules:write" },
        { "POST", $"/schedules/{Guid.Empty}/trigger", "schedules:write" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_route_is_401_without_a_key_and_403_without_its_scope(string method, string path, string scope)
    {
        using (var anonymous = _factory.ClientFor(null))
        {
            await AssertProblemAsync(await SendAsync(anonymous, method, path), HttpStatusCode.Unauthorized, "X-API-Key");
        }

        using (var lacking = _factory.ClientFor(scope == "jobs:read" ? "writer" : "reader"))
        {
            await AssertProblemAsync(await SendAsync(lacking, method, path), HttpStatusCode.Forbidden, $"'{scope}'");
        }

        using var allowed = _factory.ClientFor("alice");
        var answer = await SendAsync(allowed, method, path);
        Assert.NotEqual(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.True((int)answer.StatusCode < 500, $"{method} {path} answered {answer.StatusCode}");
    }

    private Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PATCH")
        {
            request.Content = JsonContent.Create(path == "/schedules" ? Body() : new { paused = true });
        }

        return client.SendAsync(request);
    }
}
