using System.CommandLine;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet submit</c>: hand a job to a running coordinator.</summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("DATASET") { Description = "Dataset location as the coordinator sees it (az://container/prefix, a manifest, or a path)." };
        var model = new Option<string>("--model", "-m") { Description = "Model id.", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "Output location (default: the coordinator's, plus the job id)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Take over the output of a finished job that overlaps this one's (refused otherwise)." };
        var wait = new Option<bool>("--wait", "-w")
        {
            Description = "Follow the job until it ends, then exit with its outcome (0 Completed, 4 CompletedWithErrors, 1 Failed, 130 Cancelled).",
        };
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();
        var options = new JobOptions();
        var command = new Command("submit", "Submit a job to a running coordinator.") { dataset, model, output, overwrite, wait, coordinator, apiKey };
        options.AddTo(command, embedded: false);
        command.SetAction((parse, ct) =>
        {
            var values = options.Read(parse);
            var request = new JobRequest(
                parse.GetRequiredValue(dataset),
                parse.GetRequiredValue(model),
                parse.GetValue(output),
                values.ShardSize,
                values.TopK,
                values.RandomWeights,
                values.Seed,
                values.Priority,
                parse.GetValue(overwrite),
                Outputs: values.Outputs,
                Review: values.Review);
            return CoordinatorClient.RunAsync(parse.GetRequiredValue(coordinator), parse.GetValue(apiKey), async client =>
            {
                var accepted = await client.PrintAsync<JobView>(HttpMethod.Post, "jobs", request, ct);
                return parse.GetValue(wait) ? await StatusCommand.WatchAsync(client, accepted.JobId, ct) : ExitCodes.Ok;
            });
        });
        return command;
    }
}
