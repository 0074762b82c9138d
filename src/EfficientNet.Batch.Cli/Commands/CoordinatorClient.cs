using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>HTTP access to a running coordinator for <c>submit</c> and <c>status</c>.</summary>
internal static class CoordinatorClient
{
    public static Option<string> CreateOption() => new("--coordinator", "-c")
    {
        Description = "Coordinator base URL (default: $EFFNET_COORDINATOR, else http://127.0.0.1:5000).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EFFNET_COORDINATOR") ?? "http://127.0.0.1:5000",
    };

    public static HttpClient Create(string baseUrl) => new() { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Prints the body of a response, pretty-printed, and maps the HTTP status to an exit code.</summary>
    public static async Task<int> PrintAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (body.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                body = JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true });
            }
            catch (JsonException)
            {
                // Not JSON: print as it came.
            }
        }

        if (response.IsSuccessStatusCode)
        {
            Console.Out.WriteLine(body);
            return ExitCodes.Ok;
        }

        Console.Error.WriteLine($"error: {(int)response.StatusCode} {response.ReasonPhrase}");
        Console.Error.WriteLine(body);
        return (int)response.StatusCode < 500 ? ExitCodes.InvalidArguments : ExitCodes.ServerError;
    }

    public static Task<HttpResponseMessage> PostJsonAsync<T>(HttpClient client, string path, T body, CancellationToken cancellationToken) =>
        client.PostAsJsonAsync(path, body, cancellationToken);
}
