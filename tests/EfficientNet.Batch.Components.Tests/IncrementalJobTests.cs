using System.Text.Json.Nodes;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>Incremental re-scoring through the whole job flow (coordinator and worker on the in-memory bus, file-system
/// storage, untrained b0): what is reused, what is classified (counted by the worker itself), and what changes.jsonl says.</summary>
public sealed class IncrementalJobTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("effnet-models-").FullName;
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-work-").FullName;
    private readonly List<string> _datasets = [];

    public void Dispose()
    {
        foreach (var dir in _datasets.Append(_models).Append(_work))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private IHost BuildHost() => InMemoryBusJobTests.BuildHost(_models, _work);

    private static async Task<JobRecord> RunAsync(IHost host, JobSpec spec, JobOrigin? origin = null)
    {
        var record = await host.Services.GetRequiredService<JobSubmission>()
            .SubmitAsync(NewId.NextGuid(), spec, overwrite: false, CancellationToken.None, origin: origin);
        return await InMemoryBusJobTests.WaitForTerminalAsync(host, record.JobId);
    }

    private static List<string> Lines(JobRecord job, string name) => [.. File.ReadAllLines(Path.Combine(job.Output, name)).Where(l => l.Length > 0)];

    private static JsonNode Summary(JobRecord job) => JsonNode.Parse(File.ReadAllText(Path.Combine(job.Output, "summary.json")))!;

    [Fact]
    public async Task A_rescore_after_10_replaced_5_removed_and_5_added_classifies_exactly_15_and_matches_a_full_run()
    {
        var photos = TestData.FirstPhotos(215);
        var dataset = TestData.DatasetOf(photos.Take(200).Select(p => (p, Path.GetFileName(p))));
        _datasets.Add(dataset);
        using var host = BuildHost();
        await host.StartAsync();
        var progress = host.Services.GetRequiredService<ClassificationProgress>();
        var spec = new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true, Seed = 11, ShardSize = 16, TopK = 3, Incremental = true };

        var first = await RunAsync(host, spec);
        Assert.Equal(JobStatus.Completed, first.Status);
        Assert.Equal(200, progress.Images);
        var firstIncremental = Summary(first)["incremental"]!;
        Assert.Equal(200, firstIncremental["classified"]!.GetValue<long>());
        Assert.Equal("there is no previous run to reuse", firstIncremental["fullReason"]!.GetValue<string>());
        Assert.All(Lines(first, "predictions.jsonl"), l => Assert.NotNull(JsonNode.Parse(l)!["fingerprint"]!["sha256"]));
        var firstTop1 = Lines(first, "predictions.jsonl").Select(l => JsonNode.Parse(l)!)
            .ToDictionary(n => n["path"]!.GetValue<string>(), n => n["top"]![0]!["index"]!.GetValue<int>());

        // 10 replaced (another photo's bytes under the same name), 5 removed, 5 added.
        var names = photos.Take(200).Select(Path.GetFileName).ToList();
        var replaced = names.Where((_, i) => i % 20 == 3).ToList();
        var removed = names.Where((_, i) => i % 40 == 7).ToList();
        var added = photos.Skip(210).Select(Path.GetFileName).ToList();
        for (var i = 0; i < replaced.Count; i++)
        {
            // As a new upload would: new bytes, written now.
            File.Copy(photos[200 + i], Path.Combine(dataset, replaced[i]!), overwrite: true);
            File.SetLastWriteTimeUtc(Path.Combine(dataset, replaced[i]!), DateTime.UtcNow);
        }

        foreach (var name in removed)
        {
            File.Delete(Path.Combine(dataset, name!));
        }

        foreach (var path in photos.Skip(210))
        {
            File.Copy(path, Path.Combine(dataset, Path.GetFileName(path)));
        }

        var second = await RunAsync(host, spec, new JobOrigin(BaselineJobId: first.JobId));
        Assert.Equal(JobStatus.Completed, second.Status);
        Assert.Equal(215, progress.Images); // the worker's own counter: 15 more images classified
        var incremental = Summary(second)["incremental"]!;
        Assert.Equal(15, incremental["classified"]!.GetValue<long>());
        Assert.Equal(185, incremental["reused"]!.GetValue<long>());
        Assert.Equal(5, incremental["new"]!.GetValue<long>());
        Assert.Equal(10, incremental["changed"]!.GetValue<long>());
        Assert.Equal(5, incremental["removed"]!.GetValue<long>());
        Assert.Null(incremental["fullReason"]);

        var changes = Lines(second, "changes.jsonl").Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(20, changes.Count);
        Assert.Equal(
            added.Select(n => (n!, "new")).Concat(replaced.Select(n => (n!, "changed"))).Concat(removed.Select(n => (n!, "removed"))).Order(),
            changes.Select(c => (c["path"]!.GetValue<string>(), c["change"]!.GetValue<string>())).Order());
        var predictions = Lines(second, "predictions.jsonl").Select(l => JsonNode.Parse(l)!).ToDictionary(n => n["path"]!.GetValue<string>());
        foreach (var change in changes.Where(c => c["change"]!.GetValue<string>() == "changed"))
        {
            var path = change["path"]!.GetValue<string>();
            var now = predictions[path]["top"]![0]!["index"]!.GetValue<int>();
            Assert.Equal(firstTop1[path], change["previous"]!["index"]!.GetValue<int>());
            Assert.Equal(now, change["current"]!["index"]!.GetValue<int>());
            Assert.Equal(firstTop1[path] != now, change["top1Changed"]?.GetValue<bool>() ?? false);
        }

        Assert.Equal(
            changes.Count(c => c["top1Changed"]?.GetValue<bool>() == true),
            incremental["top1Changed"]!.GetValue<long>());

        // The same files classified from scratch give the same records, line for line, in the same order.
        var full = await RunAsync(host, spec with { Incremental = false });
        Assert.Equal(Lines(full, "predictions.jsonl"), Lines(second, "predictions.jsonl"));
        Assert.Null(Summary(full)["incremental"]);
    }

    [Fact]
    public async Task Nothing_is_classified_when_nothing_changed_and_other_weights_mean_a_full_rescore()
    {
        var dataset = TestData.DatasetOf(TestData.FirstPhotos(12).Select(p => (p, "a/" + Path.GetFileName(p))));
        _datasets.Add(dataset);
        using var host = BuildHost();
        await host.StartAsync();
        var progress = host.Services.GetRequiredService<ClassificationProgress>();
        var spec = new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true, Seed = 5, ShardSize = 5, Incremental = true };
        var first = await RunAsync(host, spec);

        var same = await RunAsync(host, spec, new JobOrigin(BaselineJobId: first.JobId));
        Assert.Equal(JobStatus.Completed, same.Status);
        Assert.Equal(0, same.ShardCount);
        Assert.Equal(12, progress.Images);
        Assert.Equal(Lines(first, "predictions.jsonl"), Lines(same, "predictions.jsonl"));
        Assert.Empty(Lines(same, "changes.jsonl"));
        Assert.Equal(12, Summary(same)["incremental"]!["reused"]!.GetValue<long>());

        var reseeded = await RunAsync(host, spec with { Seed = 6 }, new JobOrigin(BaselineJobId: same.JobId));
        Assert.Equal(24, progress.Images);
        var incremental = Summary(reseeded)["incremental"]!;
        Assert.Equal(0, incremental["reused"]!.GetValue<long>());
        Assert.Contains("random-seed-5 → random-seed-6", incremental["fullReason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("random-seed-6", Summary(reseeded)["modelIdentity"]!["weights"]!.GetValue<string>());
    }
}
