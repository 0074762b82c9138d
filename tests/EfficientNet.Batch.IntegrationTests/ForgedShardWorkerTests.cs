using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using EfficientNet.Batch.Contracts;
using MassTransit;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// A worker process on the real broker, sent shard messages that no coordinator would send (as anyone holding the
/// broker's credentials could): each is refused by its location policy, faulted at once, and nothing is read from or
/// written to the forged locations. A legitimate shard sent the same way is classified, so the refusals are the
/// policy's, not a message that never arrived.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class ForgedShardWorkerTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromMinutes(3);

    private readonly JobCluster _cluster = new(infrastructure, output);
    private readonly ConcurrentDictionary<int, string> _faults = new();
    private readonly ConcurrentDictionary<int, ShardClassified> _classified = new();
    private IBusControl? _bus;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_real_worker_refuses_forged_shards_outside_its_policy_and_classifies_an_allowed_one()
    {
        var photos = JobCluster.Photos(0, 2);
        var dataset = await _cluster.UploadDatasetAsync(photos);
        var privateContainer = new BlobContainerClient(infrastructure.AzureConnectionString, $"private-{_cluster.Run}");
        await privateContainer.CreateIfNotExistsAsync();
        foreach (var photo in photos)
        {
            await privateContainer.GetBlobClient("photos/" + Path.GetFileName(photo)).UploadAsync(photo, overwrite: true);
        }

        await _cluster.StartAsync(JobCluster.Worker, "worker", new Dictionary<string, string>
        {
            ["Worker__AllowedDatasets__0"] = $"az://datasets-{_cluster.Run}",
            ["Worker__AllowedOutputs__0"] = $"az://results-{_cluster.Run}",
            ["Worker__PreloadModels__0__Id"] = "efficientnet_b0",
            ["Worker__PreloadModels__0__RandomSeed"] = "0",
        });
        // The broker is the suite's: events of other tests' jobs (a cancelled job's shards left in the queue, which this
        // worker refuses) reach this endpoint too. Only this test's job counts.
        var jobId = Guid.NewGuid();
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(new Uri(infrastructure.RabbitMqUri));
            cfg.ReceiveEndpoint(e =>
            {
                e.Handler<Fault<ClassifyShard>>(context =>
                {
                    if (context.Message.Message.JobId == jobId)
                    {
                        _faults[context.Message.Message.ShardIndex] = string.Join(" ", context.Message.Exceptions.Select(x => x.Message));
                    }

                    return Task.CompletedTask;
                });
                e.Handler<ShardClassified>(context =>
                {
                    if (context.Message.JobId == jobId)
                    {
                        _classified[context.Message.ShardIndex] = context.Message;
                    }

                    return Task.CompletedTask;
                });
            });
        });
        await _bus.StartAsync();

        var images = photos.Select(p => new ShardImage(Path.GetFileName(p))).ToList();
        var results = $"az://results-{_cluster.Run}";
        ClassifyShard Shard(int index, string datasetLocation, string outputLocation, string? resultKey = null) => new(
            jobId, index, 4, new ModelRef("efficientnet_b0", true, 0), datasetLocation, images, outputLocation,
            resultKey ?? $"shard-{index}.jsonl", 1);
        var shards = new[]
        {
            Shard(0, $"az://private-{_cluster.Run}/photos", $"{results}/forged-0"),
            Shard(1, dataset, _cluster.StateLocation + "/jobs"),
            Shard(2, dataset, $"{results}/forged-2", resultKey: "../../escaped.jsonl"),
            Shard(3, dataset, $"{results}/allowed"),
        };
        // As the coordinator sends: to the exchange of the workers' priority queue.
        var endpoint = await _bus.GetSendEndpoint(new Uri("exchange:classify-shard"));
        foreach (var shard in shards)
        {
            await endpoint.Send(shard);
        }

        var deadline = DateTime.UtcNow + AnswerTimeout;
        while ((_faults.Count < 3 || _classified.IsEmpty) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(_classified.ContainsKey(3), $"the allowed shard was not classified:{Environment.NewLine}{_cluster.Logs}");
        Assert.Equal([0, 1, 2], _faults.Keys.Order());
        Assert.All(_faults.Values, reason => Assert.Contains("refused by the worker's location policy", reason, StringComparison.Ordinal));
        Assert.Contains("is outside Worker:AllowedDatasets", _faults[0], StringComparison.Ordinal);
        Assert.Contains("overlaps the coordinator's state location", _faults[1], StringComparison.Ordinal);
        Assert.Contains("does not stay inside the output", _faults[2], StringComparison.Ordinal);

        var written = new List<string>();
        await foreach (var blob in _cluster.Results.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions(), CancellationToken.None))
        {
            written.Add(blob.Name);
        }

        Assert.Equal(["allowed/shard-3.jsonl"], written);
        Assert.False(await _cluster.State.ExistsAsync(), "a forged shard wrote into the coordinator's state container");
    }
}
