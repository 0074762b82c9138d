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

    public CoordinatorApiTests(InMemoryCoordinator factory)
    {
        _client = factory.CreateClient();
        _client.DefaultRequestHeaders.Add("X-API-Key", InMemoryCoordinator.AdminKey);
    }

    public sealed class InMemoryCoordinator : WebApplicationFactory<EfficientNet.Batch.Coordinator.ProblemExceptionHandler>
    {
        public const string AdminKey = "api-tests-admin-key";

        private readonly string _work = Directory.CreateTempSubdirectory("effnet-api-").FullName;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Messaging:Transport", "InMemory");
            builder.UseSetting("Coordinator:StateLocation", Path.Combine(_work, "state"));
            builder.UseSetting("Coordinator:OutputLocation", Path.Combine(_work, "results"));
            // The tests' datasets are temporary folders.
            builder.UseSetting("Coordinator:AllowedDatasets:0", Path.GetTempPath());
            builder.UseSetting("Auth:ApiKeys:0:Name", "api-tests");
            builder.UseSetting("Auth:ApiKeys:0:Sha256", JobCluster.Sha256Hex(AdminKey));
            builder.UseSetting("Auth:ApiKeys:0:Scopes:0", "admin");
            builder.UseSetting("Limits:SubmitPermitsPerMinute", "1000");
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
    public async Task A_body_that_is_not_json_is_a_problem_saying_where_and_why()
    {
        using var response = await _client.PostAsync("/jobs", new StringContent("{\"dataset\": \"x\",\n \"model\": }", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains("not valid JSON", detail, StringComparison.Ordinal);
        Assert.Contains("LineNumber: 1", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_a_problem_naming_the_field()
    {
        using var response = await _client.PostAsync("/jobs", new StringContent("{\"dataset\":\"x\",\"model\":\"efficientnet_b0\",\"priority\":\"urgent\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("$.priority", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_never_echoes_a_huge_field_back()
    {
        // Just under the body limit (Limits:MaxRequestBodyBytes, 1 MiB by default).
        var huge = new string('a', 400_000);

        using var response = await _client.PostAsJsonAsync("/jobs", new { dataset = "s3://" + huge, model = huge });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.Content.ReadAsStringAsync()).Length < 4000);
    }

    [Fact]
    public async Task Unknown_jobs_are_404_problems_for_every_route()
    {
        var id = Guid.NewGuid();
        using var get = await _client.GetAsync($"/jobs/{id}");
        using var cancel = await _client.PostAsync($"/jobs/{id}/cancel", null);
        using var delete = await _client.DeleteAsync($"/jobs/{id}");

        foreach (var response in new[] { get, cancel, delete })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(id.ToString(), await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/jobs?status=Bogus")]
    [InlineData("/jobs?limit=0")]
    [InlineData("/jobs?limit=100000")]
    [InlineData("/jobs?cursor=not-ours")]
    public async Task Bad_listing_parameters_are_400_problems(string url)
    {
        using var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_running_job_can_be_cancelled_but_not_deleted_and_the_listing_pages()
    {
        var dataset = Directory.CreateTempSubdirectory("effnet-api-data-").FullName;
        File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(dataset, "a.jpg"));
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            using var submitted = await _client.PostAsJsonAsync("/jobs", new { dataset, model = "efficientnet_b0", randomWeights = true, priority = "high" });
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
            var view = JsonNode.Parse(await submitted.Content.ReadAsStringAsync())!;
            Assert.Equal("high", view["priority"]!.GetValue<string>());
            ids.Add(view["jobId"]!.GetValue<Guid>());
        }

        using var delete = await _client.DeleteAsync($"/jobs/{ids[0]}");
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);

        using var cancel = await _client.PostAsync($"/jobs/{ids[0]}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Contains(JsonNode.Parse(await cancel.Content.ReadAsStringAsync())!["status"]!.GetValue<string>(), new[] { "Cancelling", "Cancelled" });
        using var again = await _client.PostAsync($"/jobs/{ids[0]}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);

        var first = JsonNode.Parse(await _client.GetStringAsync("/jobs?limit=2"))!;
        Assert.Equal(2, first["items"]!.AsArray().Count);
        var cursor = first["nextCursor"]!.GetValue<string>();
        var rest = JsonNode.Parse(await _client.GetStringAsync($"/jobs?limit=1000&cursor={Uri.EscapeDataString(cursor)}"))!;
        var listed = first["items"]!.AsArray().Concat(rest["items"]!.AsArray()).Select(j => j!["jobId"]!.GetValue<Guid>()).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Subset(listed.ToHashSet(), ids.ToHashSet());
    }

    [Fact]
    public async Task The_openapi_document_describes_every_route_with_typed_schemas_and_the_reference_page_is_served()
    {
        var document = JsonNode.Parse(await _client.GetStringAsync("/openapi/v1.json"))!;

        var paths = document["paths"]!.AsObject();
        Assert.NotNull(paths["/jobs"]!["post"]);
        Assert.NotNull(paths["/jobs"]!["get"]);
        Assert.NotNull(paths["/jobs/{id}"]!["get"]);
        Assert.NotNull(paths["/jobs/{id}"]!["delete"]);
        Assert.NotNull(paths["/jobs/{id}/cancel"]!["post"]);
        var schemas = document["components"]!["schemas"]!.AsObject();
        foreach (var name in new[] { "JobRequest", "JobView", "JobProgress", "JobListPage", "JobListItem", "CancelAccepted" })
        {
            Assert.True(schemas.ContainsKey(name), $"schema {name} missing: {string.Join(", ", schemas.Select(p => p.Key))}");
        }

        using var reference = await _client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        Assert.Contains("text/html", reference.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
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
        var list = JsonNode.Parse(await _client.GetStringAsync("/jobs"))!["items"]!.AsArray();
        Assert.Contains(list, j => j!["jobId"]!.GetValue<Guid>() == id);
    }

    [Fact]
    public async Task RescoreFrom_must_name_a_job_of_the_caller_else_the_request_is_a_400_naming_it()
    {
        var dataset = Directory.CreateTempSubdirectory("effnet-api-data-").FullName;
        File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(dataset, "a.jpg"));
        var unknown = Guid.NewGuid();

        using var refused = await _client.PostAsJsonAsync("/jobs", new { dataset, model = "efficientnet_b0", randomWeights = true, rescoreFrom = unknown });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.Contains($"There is no job {unknown} of yours", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var first = await _client.PostAsJsonAsync("/jobs", new { dataset, model = "efficientnet_b0", randomWeights = true });
        var previous = JsonNode.Parse(await first.Content.ReadAsStringAsync())!["jobId"]!.GetValue<Guid>();
        using var accepted = await _client.PostAsJsonAsync("/jobs", new { dataset, model = "efficientnet_b0", randomWeights = true, rescoreFrom = previous });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
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
