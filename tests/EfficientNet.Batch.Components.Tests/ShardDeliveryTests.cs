using System.Text.Json.Nodes;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Storage;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>A shard's deliveries are counted in its output, so that a shard that kills every worker process taking it
/// (no exception, no fault) fails after <see cref="WorkerOptions.MaxShardDeliveries"/> instead of being redelivered
/// forever; in-process retries of one delivery do not count.</summary>
public sealed class ShardDeliveryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-deliveries-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Each_delivery_is_counted_and_the_one_past_the_limit_is_refused_naming_the_limit()
    {
        var shard = Shard(NewId.NextGuid(), 4);
        var deliveries = NewProcess(limit: 2);

        Assert.Equal(1, await deliveries.CountAsync(shard, CancellationToken.None));
        Assert.Equal(2, await deliveries.CountAsync(shard, CancellationToken.None));
        var refused = await Assert.ThrowsAsync<ShardDeliveryLimitException>(() => deliveries.CountAsync(shard, CancellationToken.None));

        Assert.Equal(3, refused.Deliveries);
        Assert.Equal(2, refused.Limit);
        Assert.Contains("delivery limit", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Worker:MaxShardDeliveries (2)", refused.Message, StringComparison.Ordinal);
        // Other shards, and the same shard of another job, have counts of their own.
        Assert.Equal(1, await deliveries.CountAsync(Shard(shard.JobId, 5), CancellationToken.None));
        Assert.Equal(1, await deliveries.CountAsync(Shard(NewId.NextGuid(), 4), CancellationToken.None));
    }

    [Fact]
    public async Task The_count_survives_the_worker_process()
    {
        var shard = Shard(NewId.NextGuid(), 0);

        // Each "process" has its own service and its own store client over the same output, as a restarted worker has.
        Assert.Equal(1, await NewProcess(limit: 2).CountAsync(shard, CancellationToken.None));
        Assert.Equal(2, await NewProcess(limit: 2).CountAsync(shard, CancellationToken.None));
        await Assert.ThrowsAsync<ShardDeliveryLimitException>(() => NewProcess(limit: 2).CountAsync(shard, CancellationToken.None));

        var counter = Path.Combine(_root, "out", JobOutputLayout.DeliveriesKey(shard.JobId, shard.ShardIndex));
        Assert.Equal("3", await File.ReadAllTextAsync(counter));
        Assert.StartsWith(JobOutputLayout.ShardsFolder(shard.JobId) + "/", JobOutputLayout.DeliveriesKey(shard.JobId, shard.ShardIndex), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retry_of_a_delivery_is_not_counted_and_a_committed_shard_leaves_no_counter()
    {
        var photos = TestData.FirstPhotos(2);
        var dataset = TestData.DatasetOf(photos.Select(p => (p, Path.GetFileName(p))));
        try
        {
            using var host = BuildHost(limit: 1);
            var execution = host.Services.GetRequiredService<ShardExecution>();
            ShardImage[] images = [.. photos.Select(p => new ShardImage(Path.GetFileName(p), null))];
            string Counter(ClassifyShard shard) => Path.Combine(_root, "out", JobOutputLayout.DeliveriesKey(shard.JobId, shard.ShardIndex));

            // A shard that fails after it was counted (an unknown model), then MassTransit's in-process retry of it.
            var failing = Shard(NewId.NextGuid(), 0) with
            {
                DatasetLocation = dataset,
                Images = images,
                Model = WorkerFixture.Model with { ModelId = "efficientnet_b99" },
            };
            await Assert.ThrowsAnyAsync<Exception>(() => execution.RunAsync(failing, newDelivery: true, _ => Task.CompletedTask, CancellationToken.None));
            await Assert.ThrowsAnyAsync<Exception>(() => execution.RunAsync(failing, newDelivery: false, _ => Task.CompletedTask, CancellationToken.None));

            Assert.Equal("1", await File.ReadAllTextAsync(Counter(failing)));
            // A new delivery past the limit of one is refused before anything is announced or classified.
            var announced = false;
            await Assert.ThrowsAsync<ShardDeliveryLimitException>(() => execution.RunAsync(
                failing, newDelivery: true, _ => Task.FromResult(announced = true), CancellationToken.None));
            Assert.False(announced, "a shard past its delivery limit was announced as started");

            // A shard whose result is committed takes its counter with it.
            var good = Shard(NewId.NextGuid(), 0) with { DatasetLocation = dataset, Images = images };
            Assert.NotNull((await execution.RunAsync(good, newDelivery: true, _ => Task.CompletedTask, CancellationToken.None)).Classified);
            Assert.True(File.Exists(Path.Combine(_root, "out", good.ResultKey)));
            Assert.False(File.Exists(Counter(good)), "a committed shard left its delivery counter");
        }
        finally
        {
            Directory.Delete(dataset, recursive: true);
        }
    }

    [Fact]
    public async Task A_shard_past_its_delivery_limit_becomes_error_records_and_the_job_completes_with_errors()
    {
        var photos = TestData.FirstPhotos(6);
        var dataset = TestData.DatasetOf(photos.Select(p => (p, Path.GetFileName(p))));
        try
        {
            using var host = BuildHost(limit: 2, new Dictionary<string, string?>
            {
                ["Coordinator:StateLocation"] = At("state"),
                ["Coordinator:OutputLocation"] = At("results"),
                ["Coordinator:AllowedDatasets:0"] = Path.GetTempPath(),
            });
            await host.StartAsync();
            var harness = host.Services.GetRequiredService<ITestHarness>();
            var jobId = NewId.NextGuid();
            // Two earlier deliveries of shard 1 ended with their worker processes (killed by the shard): the next one is
            // one too many.
            var output = Path.Combine(At("results"), jobId.ToString("N"));
            var counter = Path.Combine(output, JobOutputLayout.DeliveriesKey(jobId, 1));
            Directory.CreateDirectory(Path.GetDirectoryName(counter)!);
            await File.WriteAllTextAsync(counter, "2");

            var record = await host.Services.GetRequiredService<JobSubmission>().SubmitAsync(
                jobId, new JobSpec { Dataset = dataset, Model = WorkerFixture.ModelId, RandomWeights = true, ShardSize = 2 },
                overwrite: false, CancellationToken.None);
            var job = await InMemoryBusJobTests.WaitForTerminalAsync(host, record.JobId);

            Assert.Equal(output, job.Output);
            Assert.Equal(JobStatus.CompletedWithErrors, job.Status);
            var predictions = File.ReadAllLines(Path.Combine(job.Output, JobOutputLayout.PredictionsName)).Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal(photos.Select(Path.GetFileName).Order(StringComparer.Ordinal), predictions.Select(p => p["path"]!.GetValue<string>()).Order(StringComparer.Ordinal));
            var failed = predictions.Where(p => p["errorKind"] is not null).ToList();
            Assert.Equal(2, failed.Count);
            Assert.All(failed, p =>
            {
                Assert.Equal("shard-failed", p["errorKind"]!.GetValue<string>());
                Assert.Contains("reached the delivery limit", p["error"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.Contains("Worker:MaxShardDeliveries (2)", p["error"]!.GetValue<string>(), StringComparison.Ordinal);
            });
            Assert.All(predictions.Except(failed), p => Assert.NotNull(p["top"]));
            // Refused at once, not retried: the retry policy's intervals would add up to 21 s.
            var fault = harness.Published.Select<Fault<ClassifyShard>>().Single().Context.Message;
            Assert.Equal(1, fault.Message.ShardIndex);
            Assert.Equal(typeof(ShardDeliveryLimitException).FullName, Assert.Single(fault.Exceptions).ExceptionType);
            // The counters went with the job's other working files.
            Assert.False(Directory.Exists(Path.Combine(job.Output, JobOutputLayout.ShardsRoot)), "the job's working files (delivery counters) are left behind");
        }
        finally
        {
            Directory.Delete(dataset, recursive: true);
        }
    }

    private ShardDeliveries NewProcess(int limit) => new(
        new StorageResolver(Options.Create(new StorageOptions())),
        Options.Create(new WorkerOptions { MaxShardDeliveries = limit }),
        NullLogger<ShardDeliveries>.Instance);

    private ClassifyShard Shard(Guid jobId, int index) =>
        new(jobId, index, index + 1, WorkerFixture.Model, At("data"), [], At("out"), JobOutputLayout.ResultKey(jobId, index), TopK: 1);

    private IHost BuildHost(int limit, Dictionary<string, string?>? coordinator = null) =>
        TestBusHost.Build(
            new Dictionary<string, string?>
            {
                ["Models:Directory"] = At("models"),
                ["Worker:Name"] = "test-worker",
                ["Worker:MaxShardDeliveries"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Worker:AllowedDatasets:0"] = Path.GetTempPath(),
                ["Worker:AllowedOutputs:0"] = "file://" + _root,
            },
            coordinator);

    private string At(string relative) => Path.Combine(_root, relative);
}
