using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// Secrets never reach a log line or an HTTP answer: a whole distributed job at Debug level, plus the error paths that
/// talk about storage and credentials, with every line every process wrote and every response body captured.
/// </summary>
/// <remarks>The hosts are started here rather than through <see cref="JobCluster.StartAsync"/>, keeping all their output:
/// at Debug level the startup lines (where a connection string would be printed) would otherwise be gone by the end of
/// a job.</remarks>
[Collection(InfrastructureCollection.Name)]
public sealed class SecretLeakTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly JobCluster _cluster = new(infrastructure, output);
    private readonly List<HostProcess> _hosts = [];
    private readonly List<string> _responses = [];
    private readonly string _apiKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task No_key_password_or_api_key_appears_in_any_log_line_or_response_of_a_whole_job_and_its_errors()
    {
        var broker = await BrokerWithDistinctPasswordAsync();
        var accountKey = ConnectionStringValue(infrastructure.AzureConnectionString, "AccountKey");
        Assert.False(string.IsNullOrEmpty(accountKey), "The storage connection string has no AccountKey to look for.");
        var dataset = await _cluster.UploadDatasetAsync(JobCluster.Photos(skip: 300, take: 40));

        var coordinator = Start(JobCluster.Coordinator, "coordinator", broker.Uri);
        var workers = new[] { Start(JobCluster.Worker, "worker-a", broker.Uri), Start(JobCluster.Worker, "worker-b", broker.Uri) };
        await Task.WhenAll(new[] { coordinator }.Concat(workers).Select(h => h.WaitUntilReadyAsync(JobCluster.ReadyTimeout)));
        using var client = new HttpClient { BaseAddress = coordinator.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-API-Key", _apiKey);

        // The job, start to end.
        var jobId = await SubmitAsync(client, dataset);
        Assert.Equal("Completed", JobCluster.Status(await WaitForTerminalAsync(client, jobId)));
        await RecordAsync(client.GetAsync("jobs"));

        // Error paths that talk about storage and credentials.
        var missing = await SubmitOrRefuseAsync(client, $"az://no-such-container-{_cluster.Run}/photos");
        if (missing is { } missingJob)
        {
            Assert.NotEqual("Completed", JobCluster.Status(await WaitForTerminalAsync(client, missingJob)));
        }

        await RecordAsync(client.GetAsync($"jobs/{Guid.NewGuid()}"));
        using (var wrongKey = new HttpRequestMessage(HttpMethod.Get, "jobs"))
        {
            wrongKey.Headers.Add("X-API-Key", _apiKey[..^4] + "AAAA");
            await RecordAsync(client.SendAsync(wrongKey));
        }

        foreach (var host in new[] { coordinator }.Concat(workers))
        {
            using var probe = new HttpClient { BaseAddress = host.BaseAddress };
            await RecordAsync(probe.GetAsync("readyz"));
            await RecordAsync(probe.GetAsync("healthz"));
        }

        // Stop every host so that its last lines are flushed and read.
        foreach (var host in _hosts)
        {
            host.Kill();
        }

        var logs = string.Join(Environment.NewLine, _hosts.Select(h => h.Output));
        var responses = string.Join(Environment.NewLine, _responses);
        output.WriteLine($"{logs.Length} characters of logs from {_hosts.Count} processes, {_responses.Count} responses");

        // The capture is real: every process wrote Debug lines, and the job and the missing container are in them.
        Assert.All(_hosts, h => Assert.Contains("dbug:", h.Output, StringComparison.Ordinal));
        Assert.Contains(jobId.ToString(), logs + responses, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"no-such-container-{_cluster.Run}", logs + responses, StringComparison.Ordinal);

        var secrets = new Dictionary<string, string>
        {
            ["the storage account key"] = accountKey,
            ["the API key"] = _apiKey,
            ["the broker address with its password"] = $"{broker.User}:{broker.Password}@",
        };
        if (broker.Password != broker.User)
        {
            secrets["the broker password"] = broker.Password;
        }

        var leaks = secrets
            .SelectMany(s => new[] { ("the logs", logs), ("a response", responses) }
                .Where(place => place.Item2.Contains(s.Value, StringComparison.Ordinal))
                .Select(place => $"{s.Key} is in {place.Item1}: {Around(place.Item2, s.Value)}"))
            .ToList();
        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    private HostProcess Start(string project, string name, string rabbitMqUri)
    {
        var host = HostProcess.Start(project, new Dictionary<string, string>
        {
            ["Messaging__Transport"] = "RabbitMq",
            ["Messaging__RabbitMqUri"] = rabbitMqUri,
            ["Storage__AzureConnectionString"] = infrastructure.AzureConnectionString,
            ["Coordinator__StateLocation"] = _cluster.StateLocation,
            ["Coordinator__OutputLocation"] = _cluster.OutputLocation,
            ["Models__Directory"] = _cluster.ModelsDirectory,
            ["Worker__Name"] = name,
            ["Inference__BatchSize"] = "8",
            ["Auth__ApiKeys__0__Name"] = "ci",
            ["Auth__ApiKeys__0__Sha256"] = JobCluster.Sha256Hex(_apiKey),
            ["Auth__ApiKeys__0__Scopes__0"] = "admin",
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Microsoft"] = "Debug",
            ["Logging__LogLevel__MassTransit"] = "Debug",
            ["Logging__LogLevel__Azure"] = "Debug",
        },
        keepAllOutput: true);
        _hosts.Add(host);
        return host;
    }

    private async Task<Guid> SubmitAsync(HttpClient client, string dataset) =>
        await SubmitOrRefuseAsync(client, dataset) ?? throw new InvalidOperationException($"POST /jobs refused {dataset}: {_responses[^1]}");

    /// <summary>POST /jobs: the job id when accepted, null when refused.</summary>
    private async Task<Guid?> SubmitOrRefuseAsync(HttpClient client, string dataset)
    {
        var body = await RecordAsync(client.PostAsJsonAsync("jobs", new JsonObject
        {
            ["dataset"] = dataset,
            ["model"] = "efficientnet_b0",
            ["randomWeights"] = true,
            ["seed"] = 7,
            ["shardSize"] = 8,
            ["topK"] = 3,
        }));
        return body.Status == HttpStatusCode.Accepted ? JsonNode.Parse(body.Text)!["jobId"]!.GetValue<Guid>() : null;
    }

    private async Task<JsonNode> WaitForTerminalAsync(HttpClient client, Guid jobId)
    {
        var deadline = DateTime.UtcNow + JobCluster.JobTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var (status, text) = await RecordAsync(client.GetAsync($"jobs/{jobId}"));
            Assert.Equal(HttpStatusCode.OK, status);
            var job = JsonNode.Parse(text)!;
            if (JobCluster.IsTerminal(job))
            {
                return job;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"Job {jobId} did not finish; {_responses[^1]}");
    }

    private async Task<(HttpStatusCode Status, string Text)> RecordAsync(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        var text = await response.Content.ReadAsStringAsync();
        // Headers too: a secret in a WWW-Authenticate or Location header leaks as surely as one in a body.
        lock (_responses)
        {
            _responses.Add($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}{Environment.NewLine}{response.Headers}{response.Content.Headers}{text}");
        }

        return (response.StatusCode, text);
    }

    /// <summary>The fixture's broker with a user of its own whose password is random and distinct from the user name, when
    /// this run's rabbitmqctl is known (scripts/test.sh); else the fixture's address as it is (e.g. guest:guest, where
    /// only the user:password@ form can be looked for).</summary>
    private async Task<(string Uri, string User, string Password)> BrokerWithDistinctPasswordAsync()
    {
        var fixtureUri = new Uri(infrastructure.RabbitMqUri);
        var userInfo = Uri.UnescapeDataString(fixtureUri.UserInfo).Split(':', 2);
        var rabbitmqctl = Environment.GetEnvironmentVariable("EFFNET_TEST_RABBITMQCTL") ?? "";
        if (rabbitmqctl.Length == 0 || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("RABBITMQ_NODENAME")))
        {
            output.WriteLine("No rabbitmqctl for this run's broker: using the fixture's user.");
            return (infrastructure.RabbitMqUri, userInfo[0], userInfo.Length > 1 ? userInfo[1] : "");
        }

        var user = $"leak-test-{_cluster.Run}";
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await RabbitMqCtlAsync(rabbitmqctl, "add_user", user, password);
        await RabbitMqCtlAsync(rabbitmqctl, "set_permissions", "-p", "/", user, ".*", ".*", ".*");
        var builder = new UriBuilder(fixtureUri) { UserName = user, Password = password };
        return (builder.Uri.ToString(), user, password);
    }

    private static async Task RabbitMqCtlAsync(string rabbitmqctl, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(rabbitmqctl, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"rabbitmqctl {arguments[0]} failed: {await error}");
    }

    private static string ConnectionStringValue(string connectionString, string key) =>
        connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2 && p[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim())
            .FirstOrDefault() ?? "";

    /// <summary>The line around a leak, with the secret itself masked so the failure message does not leak it too.</summary>
    private static string Around(string text, string secret)
    {
        var at = text.IndexOf(secret, StringComparison.Ordinal);
        var start = Math.Max(0, text.LastIndexOf('\n', at) + 1);
        var end = text.IndexOf('\n', at + secret.Length);
        return text[start..(end < 0 ? text.Length : end)].Replace(secret, "<SECRET>", StringComparison.Ordinal);
    }
}
