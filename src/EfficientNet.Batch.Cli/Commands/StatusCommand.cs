using System.CommandLine;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet status JOB [--watch]</c>: a job's state and progress, from a running coordinator.</summary>
internal static class StatusCommand
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var job = new Argument<Guid>("JOB") { Description = "Job id (as printed by `effnet submit`)." };
        var watch = new Option<bool>("--watch", "-w")
        {
            Description = "Follow the job until it ends, then exit with its outcome (0 Completed, 4 CompletedWithErrors, 1 Failed, 130 Cancelled).",
        };
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();
        var command = new Command("status", "Show a job's state and progress.") { job, watch, coordinator, apiKey };
        command.SetAction((parse, ct) =>
        {
            var path = $"jobs/{parse.GetRequiredValue(job)}";
            return CoordinatorClient.RunAsync(parse.GetRequiredValue(coordinator), parse.GetValue(apiKey), client => parse.GetValue(watch)
                ? WatchAsync(client, parse.GetRequiredValue(job), ct)
                : client.PrintAsync(HttpMethod.Get, path, null, ct));
        });
        return command;
    }

    /// <summary>Follows a job until it ends, prints its outcome and returns the exit code for it (<c>status --watch</c>,
    /// <c>submit --wait</c>).</summary>
    public static async Task<int> WatchAsync(CoordinatorClient client, Guid jobId, CancellationToken cancellationToken)
    {
        var path = $"jobs/{jobId}";
        var final = await ProgressDisplay.WaitAsync(
            async () => ProgressReading.Of(await client.GetAsync<JobView>(path, cancellationToken)),
            WatchInterval,
            cancellationToken);
        Console.Out.WriteLine(ProgressDisplay.Outcome(final));
        return ExitCodes.ForJob(final.Status);
    }
}
