using System.CommandLine;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet cancel JOB</c>: cancel a job on a running coordinator. Queued shards are skipped, running ones
/// stop, and the shards committed so far are merged.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var job = new Argument<Guid>("JOB") { Description = "Job id (as printed by `effnet submit`)." };
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();
        var command = new Command("cancel", "Cancel a job; `effnet status JOB --watch` follows it until it is closed.") { job, coordinator, apiKey };
        command.SetAction((parse, ct) => CoordinatorClient.RunAsync(
            parse.GetRequiredValue(coordinator),
            parse.GetValue(apiKey),
            client => client.PrintAsync(HttpMethod.Post, $"jobs/{parse.GetRequiredValue(job)}/cancel", null, ct)));
        return command;
    }
}
