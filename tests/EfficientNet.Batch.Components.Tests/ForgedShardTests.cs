using System.Diagnostics;
using System.Text.Json.Nodes;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Messaging;
using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>A real worker (its consumer, definition and retry policy on MassTransit's in-memory harness) given shard
/// messages that no coordinator would send: each is refused before anything is read or written, at once.</summary>
public sealed class ForgedShardTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-forged-").FullName;

    public ForgedShardTests()
    {
        Directory.CreateDirectory(At("allowed/data"));
        Directory.CreateDirectory(At("allowed/out"));
        Directory.CreateDirectory(At("elsewhere/data"));
        foreach (var photo in TestData.FirstPhotos(2))
        {
            File.Copy(photo, At("allowed/data/" + Path.GetFileName(photo)));
            File.Copy(photo, At("elsewhere/data/" + Path.GetFileName(photo)));
        }

        Directory.CreateSymbolicLink(At("allowed/data/link"), At("elsewhere/data"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string, string, string, string?, string, string> Forgeries => new()
    {
        // dataset, output, result key, cancel marker, image folder ("" or "link/"), expected reason
        { "elsewhere/data", "allowed/out/job", "result.jsonl", null, "", "'dataset' '{root}/elsewhere/data' is outside Worker:AllowedDatasets" },
        { "allowed/data", "elsewhere/out", "result.jsonl", null, "", "'output' '{root}/elsewhere/out' is outside Worker:AllowedOutputs" },
        { "allowed/data/../../elsewhere/data", "allowed/out/job", "result.jsonl", null, "", "is outside Worker:AllowedDatasets" },
        { "allowed/data/link", "allowed/out/job", "result.jsonl", null, "", "(resolved: file://{root}/elsewhere/data) is outside Worker:AllowedDatasets" },
        { "allowed/data", "allowed/out/job", "result.jsonl", null, "link/", "'dataset' image 'link/" },
        { "allowed/data", "allowed/out/job", "../../../elsewhere/out/result.jsonl", null, "", "the result key '../../../elsewhere/out/result.jsonl' does not stay inside the output" },
        { "allowed/data", "allowed/out/job", "result.jsonl", "../../../elsewhere/marker", "", "the cancel marker key '../../../elsewhere/marker' does not stay inside the output" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_worker_refuses_a_shard_outside_its_policy_without_reading_writing_or_retrying(
        string dataset, string output, string resultKey, string? cancelMarker, string imageFolder, string reason)
    {
        using var host = BuildHost();
        await host.StartAsync();
        var harness = host.Services.GetRequiredService<ITestHarness>();
        // Build the consumer's services and wait for its endpoint now, so that the clock below times the refusal alone.
        host.Services.GetRequiredService<ShardExecution>();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromMinutes(1));
        var shard = new ClassifyShard(
            NewId.NextGuid(),
            0,
            1,
            WorkerFixture.Model,
            At(dataset),
            [.. TestData.FirstPhotos(2).Select(p => new ShardImage(imageFolder + Path.GetFileName(p), null))],
            At(output),
            resultKey,
            TopK: 1,
            cancelMarker);
        var elapsed = Stopwatch.StartNew();

        // To the queue, not the exchange: a message sent before the worker's endpoint is bound waits there.
        var endpoint = await harness.Bus.GetSendEndpoint(new Uri($"queue:{QueueNames.ClassifyShard}"));
        await endpoint.Send(shard);

        // Any returns false after a short spell of bus inactivity, which a loaded machine can produce before the fault:
        // ask again until a deadline rather than once.
        var faulted = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!faulted && DateTime.UtcNow < deadline)
        {
            faulted = await harness.Published.Any<Fault<ClassifyShard>>(m => m.Context.Message.Message.JobId == shard.JobId);
        }

        Assert.True(faulted, "the forged shard did not fault within a minute");
        var fault = harness.Published.Select<Fault<ClassifyShard>>().Single().Context.Message;
        var exception = Assert.Single(fault.Exceptions);
        Assert.Equal(typeof(LocationRefusedException).FullName, exception.ExceptionType);
        Assert.Contains(reason.Replace("{root}", _root, StringComparison.Ordinal), exception.Message, StringComparison.Ordinal);
        // The retry policy's intervals add up to 21 s before a fault: a refusal faults at once instead.
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(20), $"the fault took {elapsed.Elapsed}");
        Assert.False(await harness.Published.Any<ShardStarted>());
        Assert.False(await harness.Published.Any<ShardClassified>());
        Assert.False(Directory.Exists(At("elsewhere/out")));
        Assert.False(File.Exists(At("elsewhere/marker")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(At("allowed/out")));
    }

    [Fact]
    public async Task A_shard_a_worker_refuses_is_reported_by_the_coordinator_as_failed_images_naming_the_policy()
    {
        // The coordinator allows the dataset, the worker does not: every shard faults, and the job still finishes.
        using var host = BuildHost(new Dictionary<string, string?>
        {
            ["Coordinator:StateLocation"] = At("state"),
            ["Coordinator:OutputLocation"] = At("results"),
            ["Coordinator:AllowedDatasets:0"] = At("elsewhere"),
        });
        await host.StartAsync();

        var record = await host.Services.GetRequiredService<JobSubmission>().SubmitAsync(
            NewId.NextGuid(), new JobSpec { Dataset = At("elsewhere/data"), Model = WorkerFixture.ModelId, RandomWeights = true, ShardSize = 1 },
            overwrite: false, CancellationToken.None);
        var job = await InMemoryBusJobTests.WaitForTerminalAsync(host, record.JobId);

        var predictions = File.ReadAllLines(Path.Combine(job.Output, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2, predictions.Count);
        Assert.All(predictions, p =>
        {
            Assert.Equal("shard-failed", p["errorKind"]!.GetValue<string>());
            Assert.Contains("is outside Worker:AllowedDatasets", p["error"]!.GetValue<string>(), StringComparison.Ordinal);
        });
    }

    private IHost BuildHost(Dictionary<string, string?>? coordinator = null) =>
        TestBusHost.Build(
            new Dictionary<string, string?>
            {
                ["Models:Directory"] = At("models"),
                ["Worker:Name"] = "test-worker",
                ["Worker:AllowedDatasets:0"] = At("allowed/data"),
                ["Worker:AllowedOutputs:0"] = "file://" + At("allowed/out"),
            },
            coordinator);

    private string At(string relative) => Path.Combine(_root, relative);
}
