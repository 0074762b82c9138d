using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// Who may call what, against the coordinator's real host (in process, in-memory transport, file-system state): each
/// route with no key, a wrong key, a key without the route's scope and a key with it; one identity's jobs invisible to
/// another; bearer tokens with scopes; and the limits (body size, submit rate, unfinished jobs per identity).
/// </summary>
public sealed class CoordinatorAuthTests : IClassFixture<CoordinatorAuthTests.SecuredCoordinator>
{
    private const string Issuer = "https://issuer.test/";
    private const string Audience = "effnet-coordinator";
    private static readonly SymmetricSecurityKey SigningKey = new(Encoding.UTF8.GetBytes("a test signing key of at least 256 bits, not a secret"));

    private readonly SecuredCoordinator _factory;

    public CoordinatorAuthTests(SecuredCoordinator factory) => _factory = factory;

    public sealed class SecuredCoordinator : WebApplicationFactory<EfficientNet.Batch.Coordinator.ProblemExceptionHandler>
    {
        /// <summary>Key name → (key, scopes).</summary>
        public static readonly Dictionary<string, (string Key, string[] Scopes)> Keys = new()
        {
            ["reader"] = ("reader-key-0123456789", ["jobs:read"]),
            ["submitter"] = ("submitter-key-0123456789", ["jobs:submit"]),
            ["canceller"] = ("canceller-key-0123456789", ["jobs:cancel"]),
            ["alice"] = ("alice-key-0123456789", ["jobs:read", "jobs:submit", "jobs:cancel"]),
            ["bob"] = ("bob-key-0123456789", ["jobs:read", "jobs:submit", "jobs:cancel"]),
            ["carol"] = ("carol-key-0123456789", ["jobs:read", "jobs:submit"]),
            ["root"] = ("root-key-0123456789", ["admin"]),
            ["flood"] = ("flood-key-0123456789", ["jobs:submit"]),
        };

        public string Work { get; } = Directory.CreateTempSubdirectory("effnet-auth-").FullName;

        public string Dataset { get; }

        public SecuredCoordinator()
        {
            Dataset = Directory.CreateDirectory(Path.Combine(Work, "data")).FullName;
            File.Copy(Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).First(), Path.Combine(Dataset, "a.jpg"));
        }

        public HttpClient ClientFor(string? keyName, string? rawKey = null)
        {
            var client = CreateClient();
            var key = rawKey ?? (keyName is null ? null : Keys[keyName].Key);
            if (key is not null)
            {
                client.DefaultRequestHeaders.Add("X-API-Key", key);
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

            builder.UseSetting("Auth:Jwt:Authority", Issuer);
            builder.UseSetting("Auth:Jwt:Audience", Audience);
            builder.UseSetting("Limits:MaxRequestBodyBytes", "4096");
            builder.UseSetting("Limits:SubmitPermitsPerMinute", "3");
            builder.UseSetting("Limits:MaxConcurrentJobsPerIdentity", "2");
            // The issuer's metadata is given here instead of fetched: tokens are signed with the test key.
            builder.ConfigureTestServices(services => services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
            {
                var configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
                configuration.SigningKeys.Add(SigningKey);
                options.Configuration = configuration;
                options.ConfigurationManager = new Microsoft.IdentityModel.Protocols.StaticConfigurationManager<OpenIdConnectConfiguration>(configuration);
            }));
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

    public static TheoryData<string, string, string> Routes() => new()
    {
        { "POST", "/jobs", "jobs:submit" },
        { "GET", "/jobs", "jobs:read" },
        { "GET", $"/jobs/{Guid.Empty}", "jobs:read" },
        { "POST", $"/jobs/{Guid.Empty}/cancel", "jobs:cancel" },
        { "DELETE", $"/jobs/{Guid.Empty}", "jobs:cancel" },
        { "GET", "/openapi/v1.json", "any" },
        { "GET", "/scalar", "any" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_route_is_401_without_or_with_a_wrong_key_403_without_its_scope_and_open_with_it(string method, string path, string scope)
    {
        using (var anonymous = _factory.ClientFor(null))
        {
            await AssertProblemAsync(await SendAsync(anonymous, method, path), HttpStatusCode.Unauthorized, "X-API-Key");
        }

        using (var wrong = _factory.ClientFor(null, rawKey: "not-a-configured-key"))
        {
            var response = await SendAsync(wrong, method, path);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "does not hold a valid API key");
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "ApiKey");
        }

        if (scope != "any")
        {
            var without = SecuredCoordinator.Keys.First(k => !k.Value.Scopes.Contains(scope) && !k.Value.Scopes.Contains("admin")).Key;
            using var lacking = _factory.ClientFor(without);
            await AssertProblemAsync(await SendAsync(lacking, method, path), HttpStatusCode.Forbidden, $"'{scope}'");
        }

        var with = scope == "any" ? "reader" : SecuredCoordinator.Keys.First(k => k.Value.Scopes.Contains(scope)).Key;
        using var allowed = _factory.ClientFor(with);
        var answer = await SendAsync(allowed, method, path);
        Assert.NotEqual(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.True((int)answer.StatusCode < 500, $"{method} {path} answered {answer.StatusCode}");
    }

    [Fact]
    public async Task Health_needs_no_credentials()
    {
        using var anonymous = _factory.ClientFor(null);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task A_job_is_its_submitters_another_identity_gets_404_everywhere_and_an_admin_sees_all()
    {
        using var alice = _factory.ClientFor("alice");
        using var bob = _factory.ClientFor("bob");
        using var root = _factory.ClientFor("root");
        var id = await SubmitAsync(alice);

        var own = JsonNode.Parse(await alice.GetStringAsync($"/jobs/{id}"))!;
        Assert.Equal("key:alice", own["submittedBy"]!.GetValue<string>());
        await AssertProblemAsync(await bob.GetAsync($"/jobs/{id}"), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await bob.PostAsync($"/jobs/{id}/cancel", null), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await bob.DeleteAsync($"/jobs/{id}"), HttpStatusCode.NotFound, id.ToString());
        Assert.DoesNotContain(id, await ListAsync(bob));
        Assert.Contains(id, await ListAsync(alice));
        Assert.All(JsonNode.Parse(await alice.GetStringAsync("/jobs?limit=1000"))!["items"]!.AsArray(), j => Assert.Equal("key:alice", j!["submittedBy"]!.GetValue<string>()));
        Assert.Contains(id, await ListAsync(root));
        Assert.Equal(HttpStatusCode.OK, (await root.GetAsync($"/jobs/{id}")).StatusCode);

        // Bob's attempts changed nothing; its owner can still cancel it.
        Assert.Equal(HttpStatusCode.Accepted, (await alice.PostAsync($"/jobs/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task A_bearer_token_authenticates_with_its_scope_claim_and_its_subject_owns_its_jobs()
    {
        using var reader = BearerClient(Token("dave", "jobs:read jobs:submit"));
        var id = await SubmitAsync(reader);

        var job = JsonNode.Parse(await reader.GetStringAsync($"/jobs/{id}"))!;
        Assert.Equal("jwt:dave", job["submittedBy"]!.GetValue<string>());
        using var scp = BearerClient(Token("erin", scp: ["jobs:read"]));
        Assert.Equal(HttpStatusCode.OK, (await scp.GetAsync("/jobs")).StatusCode);
        await AssertProblemAsync(await scp.GetAsync($"/jobs/{id}"), HttpStatusCode.NotFound, id.ToString());
        await AssertProblemAsync(await scp.PostAsync($"/jobs/{id}/cancel", null), HttpStatusCode.Forbidden, "'jobs:cancel'");
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("wrong-audience")]
    [InlineData("wrong-key")]
    public async Task A_bad_bearer_token_is_401(string flaw)
    {
        var token = flaw switch
        {
            "expired" => Token("dave", "jobs:read", expires: DateTime.UtcNow.AddMinutes(-10)),
            "wrong-audience" => Token("dave", "jobs:read", audience: "someone-else"),
            _ => Token("dave", "jobs:read", key: new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another signing key of at least 256 bits, also not a secret"))),
        };
        using var client = BearerClient(token);

        var response = await client.GetAsync("/jobs");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "bearer token is not valid");
        Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_naming_the_setting()
    {
        using var alice = _factory.ClientFor("alice");

        var response = await alice.PostAsJsonAsync("/jobs", new { dataset = new string('a', 5000), model = "efficientnet_b0" });

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "Limits:MaxRequestBodyBytes");
    }

    [Fact]
    public async Task Submissions_past_the_rate_are_429_with_retry_after_per_identity()
    {
        using var submitter = _factory.ClientFor("flood");
        using var other = _factory.ClientFor("reader");
        var codes = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 4; i++)
        {
            // Invalid bodies: they use a permit each without creating jobs.
            var response = await submitter.PostAsJsonAsync("/jobs", new { model = "efficientnet_b0" });
            codes.Add(response.StatusCode);
            refused = response;
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], codes);
        Assert.NotNull(refused!.Headers.RetryAfter);
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "Limits:SubmitPermitsPerMinute");
        // Another identity has its own budget (this one lacks the scope: it is refused for that, not for the rate).
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsJsonAsync("/jobs", new { model = "efficientnet_b0" })).StatusCode);
    }

    [Fact]
    public async Task An_identity_with_the_most_unfinished_jobs_is_refused_another_until_one_finishes()
    {
        using var carol = _factory.ClientFor("carol");
        await SubmitAsync(carol);
        await SubmitAsync(carol);

        var third = await carol.PostAsJsonAsync("/jobs", new { dataset = _factory.Dataset, model = "efficientnet_b0", randomWeights = true });

        await AssertProblemAsync(third, HttpStatusCode.TooManyRequests, "Limits:MaxConcurrentJobsPerIdentity");
    }

    [Fact]
    public void A_coordinator_without_credentials_configured_refuses_to_start_naming_the_settings()
    {
        using var factory = new WebApplicationFactory<EfficientNet.Batch.Coordinator.ProblemExceptionHandler>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Messaging:Transport", "InMemory");
            builder.UseSetting("Coordinator:StateLocation", Path.Combine(_factory.Work, "state-unconfigured"));
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var message = error.ToString();
        Assert.Contains("Auth:ApiKeys:0:Sha256", message, StringComparison.Ordinal);
        Assert.Contains("Auth:Jwt:Authority", message, StringComparison.Ordinal);
        Assert.Contains("Auth:AllowAnonymous=true", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anonymous_access_is_only_what_is_asked_for_and_a_wrong_key_is_still_refused()
    {
        using var factory = new WebApplicationFactory<EfficientNet.Batch.Coordinator.ProblemExceptionHandler>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Messaging:Transport", "InMemory");
            builder.UseSetting("Coordinator:StateLocation", Path.Combine(_factory.Work, "state-anonymous"));
            builder.UseSetting("Coordinator:OutputLocation", Path.Combine(_factory.Work, "results-anonymous"));
            builder.UseSetting("Auth:AllowAnonymous", "true");
            builder.UseSetting("Auth:ProtectApiReference", "false");
        });
        using var anonymous = factory.CreateClient();
        using var wrong = factory.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-API-Key", "guess");

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/jobs")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_declares_the_api_key_scheme()
    {
        using var reader = _factory.ClientFor("reader");

        var document = JsonNode.Parse(await reader.GetStringAsync("/openapi/v1.json"))!;

        var scheme = document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal("apiKey", scheme["type"]!.GetValue<string>());
        Assert.Equal("X-API-Key", scheme["name"]!.GetValue<string>());
    }

    private HttpClient BearerClient(string token)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static string Token(string subject, string? scope = null, string[]? scp = null, DateTime? expires = null, string audience = Audience, SecurityKey? key = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (scope is not null)
        {
            claims["scope"] = scope;
        }

        if (scp is not null)
        {
            claims["scp"] = scp;
        }

        var expiry = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = expiry.AddMinutes(-30),
            IssuedAt = expiry.AddMinutes(-30),
            Expires = expiry,
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.HmacSha256),
        });
    }

    private async Task<Guid> SubmitAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/jobs", new { dataset = _factory.Dataset, model = "efficientnet_b0", randomWeights = true });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["jobId"]!.GetValue<Guid>();
    }

    private static async Task<List<Guid>> ListAsync(HttpClient client) =>
        [.. JsonNode.Parse(await client.GetStringAsync("/jobs?limit=1000"))!["items"]!.AsArray().Select(j => j!["jobId"]!.GetValue<Guid>())];

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path) =>
        client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "POST" ? JsonContent.Create(new { }) : null,
        });

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailPart)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detailPart, body, StringComparison.Ordinal);
    }
}
