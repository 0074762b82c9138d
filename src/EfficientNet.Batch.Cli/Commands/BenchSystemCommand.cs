using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.Components.Benchmarking;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>
/// <c>effnet bench system</c>: the coordinator measured at scale (<see cref="SystemBenchmark"/>). On the in-memory
/// transport the simulated workers run in this process; on RabbitMQ each worker is a separate <c>effnet</c> process
/// (the hidden <c>bench system-worker</c>) with one simulated device, and this process is the coordinator alone.
/// Storage is the local file system, in a temporary folder removed afterwards.
/// </summary>
internal static class BenchSystemCommand
{
    public const string InMemory = "inmemory";
    public const string RabbitMq = "rabbitmq";

    private const string WorkerReady = "ready";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var images = new Option<int>("--images") { Description = "Images in the generated manifest.", DefaultValueFactory = _ => 100_000 };
        var workers = new Option<int>("--workers") { Description = "Workers, each with one simulated device.", DefaultValueFactory = _ => 1 };
        var deviceMs = new Option<double>("--device-ms") { Description = "Simulated device time per image, in milliseconds.", DefaultValueFactory = _ => 0 };
        var transport = new Option<string>("--transport")
        {
            Description = "inmemory (workers in this process) or rabbitmq (worker processes; RABBITMQ_URI names the broker, which should be the benchmark's own).",
            DefaultValueFactory = _ => InMemory,
        };
        transport.AcceptOnlyFromAmong(InMemory, RabbitMq);
        var shardSize = new Option<int>("--shard-size") { Description = "Images per shard.", DefaultValueFactory = _ => JobOptions.DefaultShardSize };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command(
            "system",
            "Measure the coordinator at scale: one job over a generated manifest, real listing, planning, dispatch, status and merge, with simulated devices in place of the model.")
        {
            images, workers, deviceMs, transport, shardSize, json,
        };
        command.SetAction((parse, ct) => RunAsync(
            new SystemBenchmarkSettings(
                parse.GetValue(images), parse.GetValue(workers), parse.GetValue(deviceMs), parse.GetValue(shardSize), TimeSpan.FromMilliseconds(100), parse.GetValue(transport)!),
            parse.GetValue(json),
            ct));
        return command;
    }

    /// <summary>The hidden worker process of the RabbitMQ transport.</summary>
    public static Command CreateWorker()
    {
        var root = new Option<string>("--root") { Required = true };
        var deviceMs = new Option<double>("--device-ms") { DefaultValueFactory = _ => 0 };
        var name = new Option<string>("--name") { Required = true };
        var command = new Command("system-worker", "A worker process of `bench system --transport rabbitmq`.") { root, deviceMs, name };
        command.Hidden = true;
        command.SetAction((parse, ct) => RunWorkerAsync(parse.GetRequiredValue(root), parse.GetValue(deviceMs), parse.GetRequiredValue(name), ct));
        return command;
    }

    private static async Task<int> RunAsync(SystemBenchmarkSettings settings, bool json, CancellationToken cancellationToken)
    {
        if (settings.Images < 1 || settings.Workers is < 1 or > 64 || settings.DeviceMilliseconds < 0
            || settings.ShardSize is < ShardPlanner.MinShardSize or > ShardPlanner.MaxShardSize)
        {
            Console.Error.WriteLine($"error: --images must be at least 1, --workers 1 to 64, --device-ms 0 or more, --shard-size {ShardPlanner.MinShardSize} to {ShardPlanner.MaxShardSize}.");
            return ExitCodes.InvalidArguments;
        }

        var transport = settings.Transport;
        var rabbit = transport == RabbitMq;
        if (rabbit && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("RABBITMQ_URI")))
        {
            Console.Error.WriteLine("error: --transport rabbitmq needs RABBITMQ_URI (amqp://user:password@host:port/) naming the benchmark's broker.");
            return ExitCodes.InvalidArguments;
        }

        var root = Directory.CreateTempSubdirectory("effnet-bench-system-").FullName;
        var workers = new List<Process>();
        try
        {
            var manifest = Path.Combine(root, "dataset", "manifest.csv");
            var output = Path.Combine(root, "output");
            Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
            Directory.CreateDirectory(output);
            var generate = Stopwatch.StartNew();
            await SystemBenchmark.WriteManifestAsync(manifest, settings.Images, cancellationToken);
            Console.Error.WriteLine($"bench system: manifest of {settings.Images:N0} images written in {generate.Elapsed.TotalSeconds:F1} s; {settings.Workers} worker(s), {settings.DeviceMilliseconds} ms per image, {transport}");

            var builder = CliHost.CreateBuilder(null, Settings(root, rabbit ? nameof(MessagingTransport.RabbitMq) : nameof(MessagingTransport.InMemory), settings.Workers));
            builder.AddCoordinatorComponents();
            if (!rabbit)
            {
                AddSimulatedWorker(builder, new SimulatedDevices(settings.Workers, TimeSpan.FromMilliseconds(settings.DeviceMilliseconds)));
            }

            builder.AddBatchBus(bus =>
            {
                bus.AddCoordinatorConsumers();
                if (!rabbit)
                {
                    bus.AddWorkerConsumers();
                }
            });
            builder.Services.AddSingleton<SystemBenchmark>();
            using var host = builder.Build();
            await CliHost.StartAsync(host, cancellationToken);
            try
            {
                if (rabbit)
                {
                    for (var i = 0; i < settings.Workers; i++)
                    {
                        workers.Add(StartWorker(root, settings.DeviceMilliseconds, $"simulated-{i + 1}"));
                    }

                    // Throughput is measured from the plan on: workers still starting would count against it.
                    await Task.WhenAll(workers.Select(w => WaitUntilReadyAsync(w, cancellationToken)));
                }

                var report = await host.Services.GetRequiredService<SystemBenchmark>().RunAsync(settings, manifest, output, cancellationToken);
                Console.Out.WriteLine(json ? JsonSerializer.Serialize(report, Json) : Describe(report));
                return ExitCodes.Ok;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                StopWorker(worker);
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<int> RunWorkerAsync(string root, double deviceMs, string name, CancellationToken cancellationToken)
    {
        var settings = Settings(root, nameof(MessagingTransport.RabbitMq), 1);
        settings["Worker:Name"] = name;
        var builder = CliHost.CreateBuilder(null, settings);
        AddSimulatedWorker(builder, new SimulatedDevices(1, TimeSpan.FromMilliseconds(deviceMs)));
        builder.AddBatchBus(bus => bus.AddWorkerConsumers());
        using var host = builder.Build();
        await CliHost.StartAsync(host, cancellationToken);
        // The coordinator submits the job once every worker has said this.
        Console.Out.WriteLine(WorkerReady);
        await host.WaitForShutdownAsync(cancellationToken);
        return ExitCodes.Ok;
    }

    private static void AddSimulatedWorker(HostApplicationBuilder builder, SimulatedDevices devices)
    {
        builder.AddWorkerComponents();
        builder.Services.AddSingleton(devices);
        builder.Services.AddSingleton<SimulatedShardClassifier>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IShardClassifier>(sp => sp.GetRequiredService<SimulatedShardClassifier>()));
    }

    private static Dictionary<string, string?> Settings(string root, string transport, int concurrentShards) => new()
    {
        ["Messaging:Transport"] = transport,
        ["Coordinator:StateLocation"] = Path.Combine(root, "state"),
        ["Coordinator:OutputLocation"] = Path.Combine(root, "output"),
        ["Coordinator:AllowedDatasets:0"] = Path.Combine(root, "dataset"),
        ["Coordinator:AllowedOutputs:0"] = Path.Combine(root, "output"),
        ["Limits:MaxManifestBytes"] = (1L << 40).ToString(CultureInfo.InvariantCulture),
        ["Limits:MaxImagesPerJob"] = int.MaxValue.ToString(CultureInfo.InvariantCulture),
        ["Worker:ConcurrentShards"] = concurrentShards.ToString(CultureInfo.InvariantCulture),
        ["Worker:PrefetchCount"] = concurrentShards.ToString(CultureInfo.InvariantCulture),
    };

    private static Process StartWorker(string root, double deviceMs, string name)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            // Run as `dotnet effnet.dll`: the worker is the same assembly.
            start.ArgumentList.Add(typeof(BenchSystemCommand).Assembly.Location);
        }

        foreach (var argument in new[] { "bench", "system-worker", "--root", root, "--device-ms", deviceMs.ToString(CultureInfo.InvariantCulture), "--name", name })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("A benchmark worker process did not start.");
    }

    private static async Task WaitUntilReadyAsync(Process worker, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (await worker.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == WorkerReady)
            {
                return;
            }
        }

        throw new InvalidOperationException($"A benchmark worker process exited before it was ready (exit code {worker.ExitCode}).");
    }

    private static void StopWorker(Process worker)
    {
        try
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
                worker.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        worker.Dispose();
    }

    private static string Describe(SystemBenchmarkReport r) => string.Create(CultureInfo.InvariantCulture, $"""
        {r.Images:N0} images in {r.Shards:N0} shards of {r.ShardSize}; {r.Workers} simulated worker(s) at {r.DeviceMilliseconds} ms per image; {r.Transport}, storage on the {r.Storage}; {r.Cores} cores
        plan (list + plan)      {r.PlanSeconds,10:F2} s
        dispatch                {r.DispatchSeconds,10:F2} s
        merge                   {r.MergeSeconds,10:F2} s
        total                   {r.TotalSeconds,10:F2} s
        coordinator peak RSS    {r.CoordinatorPeakRssMiB,10:F0} MiB
        status p50 / p90 / max  {r.StatusP50Ms:F1} / {r.StatusP90Ms:F1} / {r.StatusMaxMs:F1} ms over {r.StatusCalls} calls
        throughput              {r.ImagesPerSecond,10:F1} images/s{(r.DeviceLimitImagesPerSecond is { } limit ? $" (device limit {limit:F1})" : "")}
        lines merged            {r.Lines,10:N0}
        """);
}
