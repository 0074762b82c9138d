using System.CommandLine;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet submit</c>: hand a job to a running coordinator.</summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("DATASET") { Description = "Dataset location as the coordinator sees it (az://container/prefix, a manifest, or a path)." };
        var model = new Option<string>("--model", "-m") { Description = "Model id.", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "Output location (default: the coordinator's)." };
        var coordinator = CoordinatorClient.CreateOption();
        var options = new JobOptions();
        var command = new Command("submit", "Submit a job to a running coordinator.") { dataset, model, output, coordinator };
        options.AddTo(command, embedded: false);
        command.SetAction(async (parse, ct) =>
        {
            var values = options.Read(parse);
            using var client = CoordinatorClient.Create(parse.GetRequiredValue(coordinator));
            using var response = await CoordinatorClient.PostJsonAsync(client, "jobs", new
            {
                dataset = parse.GetRequiredValue(dataset),
                model = parse.GetRequiredValue(model),
                output = parse.GetValue(output),
                shardSize = values.ShardSize,
                topK = values.TopK,
                randomWeights = values.RandomWeights,
                seed = values.Seed,
            }, ct);
            return await CoordinatorClient.PrintAsync(response, ct);
        });
        return command;
    }
}
