using System.CommandLine;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet status JOB</c>: a job's state and progress, from a running coordinator.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var job = new Argument<Guid>("JOB") { Description = "Job id (as printed by `effnet submit`)." };
        var coordinator = CoordinatorClient.CreateOption();
        var command = new Command("status", "Show a job's state and progress.") { job, coordinator };
        command.SetAction(async (parse, ct) =>
        {
            using var client = CoordinatorClient.Create(parse.GetRequiredValue(coordinator));
            using var response = await client.GetAsync($"jobs/{parse.GetRequiredValue(job)}", ct);
            return await CoordinatorClient.PrintAsync(response, ct);
        });
        return command;
    }
}
