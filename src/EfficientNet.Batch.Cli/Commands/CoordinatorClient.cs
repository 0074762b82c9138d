using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>
/// HTTP access to a running coordinator for <c>submit</c>, <c>status</c>, <c>cancel</c> and <c>jobs</c>. Bodies are the
/// shared DTOs of <c>EfficientNet.Batch.Contracts.Api</c>. What goes wrong on the way (no answer, an error status, an
/// answer that cannot be read) becomes one error line and an exit code in <see cref="RunAsync"/>, for every command.
/// </summary>
internal sealed class CoordinatorClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly HttpClient _http;

    private CoordinatorClient(Uri baseAddress, string? apiKey)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = RequestTimeout };
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Add(ApiKeyHeader, apiKey);
        }
    }

    public const string ApiKeyHeader = "X-API-Key";
    public const string ApiKeyEnvironmentVariable = "EFFNET_API_KEY";

    /// <summary>As the coordinator writes its JSON: camelCase, enums as strings.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static Option<string> CreateOption() => new("--coordinator", "-c")
    {
        Description = "Coordinator base URL (default: $EFFNET_COORDINATOR, else http://127.0.0.1:5000).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EFFNET_COORDINATOR") ?? "http://127.0.0.1:5000",
    };

    /// <summary><c>--api-key</c>: sent as <c>X-API-Key</c>. Prefer the environment variable: a flag shows in the
    /// process list and the shell history.</summary>
    public static Option<string?> CreateApiKeyOption() => new("--api-key")
    {
        Description = $"API key for the coordinator, sent as {ApiKeyHeader} (default: ${ApiKeyEnvironmentVariable}).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable),
    };

    public void Dispose() => _http.Dispose();

    /// <summary>Runs a command's requests against the coordinator at <paramref name="baseUrl"/>. An unreachable
    /// coordinator or a 5xx is exit 5, a 4xx exit 2, each with one error line and no stack trace.</summary>
    public static async Task<int> RunAsync(string baseUrl, string? apiKey, Func<CoordinatorClient, Task<int>> requests)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            Console.Error.WriteLine($"error: --coordinator must be an http:// or https:// URL, not '{baseUrl}'.");
            return ExitCodes.InvalidArguments;
        }

        using var client = new CoordinatorClient(address, apiKey);
        try
        {
            return await requests(client);
        }
        catch (CoordinatorErrorException e)
        {
            CliErrors.Report($"the coordinator answered {(int)e.Status} {e.Reason}: {e.Problem}", e);
            return (int)e.Status < 500 ? ExitCodes.InvalidArguments : ExitCodes.ServerError;
        }
        catch (HttpRequestException e)
        {
            CliErrors.Report($"cannot reach the coordinator at {baseUrl}: {e.Message}", e);
            return ExitCodes.ServerError;
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            CliErrors.Report($"cannot reach the coordinator at {baseUrl}: no answer within {RequestTimeout.TotalSeconds:F0} s.", e);
            return ExitCodes.ServerError;
        }
        catch (JsonException e)
        {
            CliErrors.Report($"the coordinator at {baseUrl} answered what this effnet cannot read: {e.Message}", e);
            return ExitCodes.ServerError;
        }
    }

    /// <summary>Sends a request and prints the answer's JSON, indented.</summary>
    public async Task<int> PrintAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, body, cancellationToken);
        Console.Out.WriteLine(Indent(await response.Content.ReadAsStringAsync(cancellationToken)));
        return ExitCodes.Ok;
    }

    /// <summary>Sends a request, prints the answer's JSON, indented, and returns it read as <typeparamref name="T"/>.</summary>
    public async Task<T> PrintAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, body, cancellationToken);
        var json = await response.Content.ReadAsStringAsync(cancellationToken);
        Console.Out.WriteLine(Indent(json));
        return JsonSerializer.Deserialize<T>(json, Json) ?? throw new JsonException($"{method} {path} answered an empty body.");
    }

    /// <summary>Sends a request whose answer has no body worth printing (e.g. a 204).</summary>
    public async Task SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, null, cancellationToken);
    }

    public async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new JsonException($"GET {path} answered an empty body.");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = body is null ? null : JsonContent.Create(body, body.GetType(), options: Json),
        };
        var response = await _http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new CoordinatorErrorException(response.StatusCode, response.ReasonPhrase, Describe(problem));
        }
    }

    private static string Indent(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    /// <summary>A problem+json answer as a line: title, detail and the validation errors; any other body as it came.</summary>
    private static string Describe(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return "no details.";
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return body;
            }

            var parts = new List<string>();
            foreach (var name in (ReadOnlySpan<string>)["title", "detail"])
            {
                if (root.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String)
                {
                    parts.Add(text.GetString()!);
                }
            }

            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                parts.AddRange(errors.EnumerateObject()
                    .SelectMany(field => field.Value.ValueKind == JsonValueKind.Array ? field.Value.EnumerateArray() : [])
                    .Select(message => message.ToString()));
            }

            return parts.Count > 0 ? string.Join(" ", parts) : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }
}

/// <summary>The coordinator answered with an error status.</summary>
internal sealed class CoordinatorErrorException(HttpStatusCode status, string? reason, string problem)
    : Exception($"{(int)status} {reason}: {problem}")
{
    public HttpStatusCode Status { get; } = status;

    public string? Reason { get; } = reason;

    public string Problem { get; } = problem;
}
