using System.CommandLine;
using System.Globalization;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet schedules add|list|show|pause|resume|remove|trigger</c>: scheduled re-scoring on a running
/// coordinator (<c>/schedules</c>).</summary>
internal static class SchedulesCommand
{
    public static Command Create() => new("schedules", "Scheduled re-scoring: jobs submitted by the coordinator on a cron.")
    {
        Add(), List(), Show(), Pause(true), Pause(false), Remove(), Trigger(),
    };

    private static Command Add()
    {
        var name = new Option<string>("--name") { Description = "A name for people.", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "Folder/prefix of images or a manifest.", Required = true };
        var model = new Option<string>("--model", "-m") { Description = "Model id, e.g. efficientnet_b0.", Required = true };
        var cron = new Option<string>("--cron") { Description = "5 fields (minute hour day month weekday) or 6 (seconds first).", Required = true };
        var timeZone = new Option<string?>("--time-zone") { Description = "Time zone the cron is read in (default UTC), e.g. Europe/Berlin." };
        var output = new Option<string?>("--out") { Description = "A fixed output every run writes to (default: a new output per run)." };
        var priority = new Option<JobPriority?>("--priority") { Description = "low, normal (default) or high." };
        var full = new Option<bool>("--full") { Description = "Classify everything each run (default: incremental, reusing the previous run)." };
        var top = new Option<int?>("--top", "-k") { Description = "Classes kept per image (default 5)." };
        var randomWeights = new Option<bool>("--random-weights") { Description = "Deterministic untrained weights." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the untrained weights." };
        var missed = new Option<string?>("--missed") { Description = "Due times missed while the coordinator was down: run-once (default) or skip." };
        missed.AcceptOnlyFromAmong("run-once", "skip");
        var overlap = new Option<string?>("--overlap") { Description = "A due time while the previous run is unfinished: skip (default) or wait." };
        overlap.AcceptOnlyFromAmong("skip", "wait");
        var onModelUpdate = new Option<string?>("--on-model-update") { Description = "When the model's weights change: none (default) or rescore." };
        onModelUpdate.AcceptOnlyFromAmong("none", "rescore");
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();

        var command = new Command("add", "Create a schedule; prints it as JSON (with its id and next due time).")
        {
            name, dataset, model, cron, timeZone, output, priority, full, top, randomWeights, seed, missed, overlap, onModelUpdate, coordinator, apiKey,
        };
        command.SetAction((parse, ct) =>
        {
            var request = new ScheduleRequest(
                parse.GetRequiredValue(name),
                parse.GetRequiredValue(dataset),
                parse.GetRequiredValue(model),
                parse.GetRequiredValue(cron),
                parse.GetValue(timeZone),
                parse.GetValue(output),
                parse.GetValue(priority),
                Incremental: !parse.GetValue(full),
                TopK: parse.GetValue(top),
                RandomWeights: parse.GetValue(randomWeights) ? true : null,
                Seed: parse.GetValue(seed),
                MissedRunPolicy: parse.GetValue(missed) switch { "skip" => MissedRunPolicy.Skip, "run-once" => MissedRunPolicy.RunOnce, _ => null },
                Overlap: parse.GetValue(overlap) switch { "wait" => OverlapPolicy.Wait, "skip" => OverlapPolicy.Skip, _ => null },
                OnModelUpdate: parse.GetValue(onModelUpdate) switch { "rescore" => ModelUpdatePolicy.Rescore, "none" => ModelUpdatePolicy.None, _ => null });
            return CoordinatorClient.RunAsync(
                parse.GetRequiredValue(coordinator), parse.GetValue(apiKey), client => client.PrintAsync(HttpMethod.Post, "schedules", request, ct));
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the list as the coordinator answered it (JSON)." };
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();
        var command = new Command("list", "List schedules with their next due time.") { json, coordinator, apiKey };
        command.SetAction((parse, ct) => CoordinatorClient.RunAsync(parse.GetRequiredValue(coordinator), parse.GetValue(apiKey), async client =>
        {
            if (parse.GetValue(json))
            {
                return await client.PrintAsync(HttpMethod.Get, "schedules", null, ct);
            }

            Print(await client.GetAsync<ScheduleList>("schedules", ct));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show() => WithSchedule("show", "A schedule with its next due time and recent runs, as JSON.", (id, client, ct) =>
        client.PrintAsync(HttpMethod.Get, $"schedules/{id}", null, ct));

    private static Command Pause(bool pause) => pause
        ? WithSchedule("pause", "Pause a schedule: it fires nothing until resumed.", (id, client, ct) =>
            client.PrintAsync(HttpMethod.Patch, $"schedules/{id}", new ScheduleUpdate(Paused: true), ct))
        : WithSchedule("resume", "Resume a schedule; due times of the paused period are not replayed.", (id, client, ct) =>
            client.PrintAsync(HttpMethod.Patch, $"schedules/{id}", new ScheduleUpdate(Paused: false), ct));

    private static Command Remove() => WithSchedule("remove", "Remove a schedule (its jobs stay).", async (id, client, ct) =>
    {
        await client.SendAsync(HttpMethod.Delete, $"schedules/{id}", ct);
        Console.Out.WriteLine($"Schedule {id} removed.");
        return ExitCodes.Ok;
    });

    private static Command Trigger() => WithSchedule("trigger", "Run a schedule now; prints the job id and due time.", (id, client, ct) =>
        client.PrintAsync(HttpMethod.Post, $"schedules/{id}/trigger", null, ct));

    private static Command WithSchedule(string name, string description, Func<Guid, CoordinatorClient, CancellationToken, Task<int>> request)
    {
        var id = new Argument<Guid>("SCHEDULE") { Description = "Schedule id (as printed by `effnet schedules add`)." };
        var coordinator = CoordinatorClient.CreateOption();
        var apiKey = CoordinatorClient.CreateApiKeyOption();
        var command = new Command(name, description) { id, coordinator, apiKey };
        command.SetAction((parse, ct) => CoordinatorClient.RunAsync(
            parse.GetRequiredValue(coordinator), parse.GetValue(apiKey), client => request(parse.GetRequiredValue(id), client, ct)));
        return command;
    }

    private static void Print(ScheduleList list)
    {
        if (list.Items.Count == 0)
        {
            Console.Out.WriteLine("No schedules.");
            return;
        }

        var table = new Table().AddColumns("id", "name", "cron", "time zone", "model", "next due", "paused", "dataset");
        foreach (var schedule in list.Items)
        {
            table.AddRow(
                schedule.Id.ToString(),
                Markup.Escape(schedule.Name),
                Markup.Escape(schedule.Cron),
                Markup.Escape(schedule.TimeZone),
                Markup.Escape(schedule.Model),
                schedule.NextDueAt is { } next ? next.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "",
                schedule.Paused ? "yes" : "",
                Markup.Escape(schedule.Dataset));
        }

        AnsiConsole.Write(table);
    }
}
