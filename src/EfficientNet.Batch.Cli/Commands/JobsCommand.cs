using System.CommandLine;
using System.Globalization;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts.Api;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet jobs list</c>: the coordinator's jobs, newest first, a page at a time.</summary>
internal static class JobsCommand
{
    /// <summary>Piped output has no width of its own; wide enough that each job stays on one line.</summary>
    private const int PipedWidth = 240;

    public static Command Create()
    {
        var status = new Option<JobStatus?>("--status") { Description = "Only jobs with this status." };
        var limit = new Option<int?>("--limit", "-n") { Description = "Jobs per page (default: the coordinator's, 50)." };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > JobQueries.MaxPageSize)
            {
                result.AddError($"--limit must be between 1 and {JobQueries.MaxPageSize}.");
            }
        });
        var cursor = new Option<string?>("--cursor") { Description = "Where the page starts: the next cursor a previous page printed." };
        var json = new Option<bool>("--json") { Description = "Print the page as the coordinator answered it (JSON)." };
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();

        var list = new Command("list", "List jobs, newest first.") { status, limit, cursor, json, coordinator, apiKey };
        list.SetAction((parse, ct) =>
        {
            var path = PagePath(parse.GetValue(status), parse.GetValue(limit), parse.GetValue(cursor));
            return CoordinatorClient.RunAsync(parse.GetRequiredValue(coordinator), parse.GetValue(apiKey), async client =>
            {
                if (parse.GetValue(json))
                {
                    return await client.PrintAsync(HttpMethod.Get, path, null, ct);
                }

                Print(await client.GetAsync<JobListPage>(path, ct));
                return ExitCodes.Ok;
            });
        });

        return new Command("jobs", "The jobs of a running coordinator.") { list };
    }

    private static string PagePath(JobStatus? status, int? limit, string? cursor)
    {
        var query = new List<string>();
        if (status is { } s)
        {
            query.Add($"status={s}");
        }

        if (limit is { } n)
        {
            query.Add(string.Create(CultureInfo.InvariantCulture, $"limit={n}"));
        }

        if (!string.IsNullOrEmpty(cursor))
        {
            query.Add($"cursor={Uri.EscapeDataString(cursor)}");
        }

        return query.Count == 0 ? "jobs" : $"jobs?{string.Join('&', query)}";
    }

    private static void Print(JobListPage page)
    {
        if (page.Items.Count == 0)
        {
            Console.Out.WriteLine("No jobs.");
        }
        else
        {
            if (Console.IsOutputRedirected)
            {
                AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, PipedWidth);
            }

            var table = new Table().AddColumns("id", "status", "model", "priority", "images", "submitted", "completed", "dataset");
            foreach (var job in page.Items)
            {
                table.AddRow(
                    job.JobId.ToString(),
                    job.Status.ToString(),
                    Markup.Escape(job.Model),
                    job.Priority.ToString().ToLowerInvariant(),
                    job.Images.ToString(CultureInfo.InvariantCulture),
                    When(job.SubmittedAt),
                    job.CompletedAt is { } completed ? When(completed) : "",
                    Markup.Escape(job.Dataset));
            }

            AnsiConsole.Write(table);
        }

        if (page.NextCursor is { } next)
        {
            Console.Out.WriteLine($"Next page: --cursor {next}");
        }
    }

    private static string When(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
