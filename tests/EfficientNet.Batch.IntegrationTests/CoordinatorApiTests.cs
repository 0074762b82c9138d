using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>The coordinator's HTTP API in process, on the in-memory transport and the file system (no services).</summary>
public sealed class CoordinatorApiTests : IClassFixture<CoordinatorApiTests.InMemoryCoordinator>
{
    private readonly HttpClient _client;

    public CoordinatorApiTests(InMemoryCoordinator factory) => _client = factory.CreateClient();

    public sealed class InMemoryCoordinator : WebApplicationFactory<Program>
    {
        private readonly string _work = Directory.CreateTempSubdirectory("effnet-api-").FullName;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Messaging:Transport", "InMemory");
            builder.UseSetting("Coordinator:StateLocation", Path.Combine(_work, "state"));
            builder.UseSetting("Coordinator:OutputLocation", Path.Combine(_work, "results"));
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing && Directory.Exists(_work))
            {
                Directory.Delete(_work, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_request_without_dataset_or_with_an_unknown_model_is_a_400_naming_each_problem()
    {
        using var response = await _client.PostAsJsonAsync("/jobs", new { model = "efficientnet_b99", shardSize = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("'dataset' is required", body, StringComparison.Ordinal);
        Assert.Contains("efficientnet_b99", body, StringComparison.Ordinal);
        Assert.Contains("shardSize", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_400()
    {
        using var response = await _client.PostAsync("/jobs", new StringContent("dataset=x", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_accepted_job_is_a_202_with_its_location_and_shows_up_in_the_listing()
    {
        var dataset = Directory.CreateTempSubdirectory("effnet-api-data-").FullName;
        File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(dataset, "a.jpg"));

        using var response = await _client.PostAsJsonAsync("/jobs", new { dataset, model = "efficientnet_b0", randomWeights = true });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var id = job["jobId"]!.GetValue<Guid>();
        Assert.Equal($"/jobs/{id}", response.Headers.Location!.OriginalString);
        using var status = await _client.GetAsync($"/jobs/{id}");
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        var list = JsonNode.Parse(await _client.GetStringAsync("/jobs"))!.AsArray();
        Assert.Contains(list, j => j!["jobId"]!.GetValue<Guid>() == id);
    }

    [Fact]
    public async Task An_unknown_job_is_a_404()
    {
        using var response = await _client.GetAsync($"/jobs/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Health_endpoints_answer(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
