using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Simulation;

/// <summary>What a re-score of a simulated dataset did, and how long its coordinator steps took.</summary>
/// <param name="PredictionsSha256">The SHA-256 of predictions.jsonl as merged.</param>
/// <param name="Changes">changes.jsonl's lines, sorted (removed paths may come in another order than the listing's).</param>
/// <param name="Listings">Times the planner listed today's dataset.</param>
public sealed record IncrementalScenarioResult(
    int Images,
    int Classified,
    long Reused,
    long Removed,
    BaselineComparison Comparison,
    long ImageReads,
    long PredictionLines,
    long ChangeLines,
    TimeSpan Planning,
    TimeSpan Merging,
    string PredictionsSha256,
    IReadOnlyList<string> Changes,
    int Listings)
{
    public bool Joined => Comparison == BaselineComparison.Joined;
}

/// <summary>
/// The coordinator's side of an incremental re-score at scale, on <see cref="SimulatedStorage"/>: a previous run's
/// committed results for every image, then today's listing (with the <c>changed</c> images rewritten), the
/// plan, simulated worker results for the images it sends, and the merge. Image bytes do not exist, so any read fails.
/// </summary>
public static class IncrementalScenario
{
    private static readonly Preprocessing B0 = new(224, "imagenet", [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    /// <param name="changed">Images rewritten since the previous run.</param>
    /// <param name="removed">Images of the previous run that today's listing leaves out.</param>
    /// <param name="order">Today's listing order (a manifest's, say); null for the store's ordinal order.</param>
    /// <param name="inMemoryBaselineLimit">The planner's <see cref="IncrementalPlanner.InMemoryBaselineLimit"/>; null for its default.</param>
    /// <param name="spillPartitions">The planner's <see cref="IncrementalPlanner.SpillPartitions"/>; null for its default.</param>
    /// <param name="manifest">Today's dataset is a manifest (listed in its own order, whatever <paramref name="order"/> is).</param>
    public static async Task<IncrementalScenarioResult> RunAsync(
        SimulatedStorage storage,
        IReadOnlyCollection<int> changed,
        CancellationToken cancellationToken,
        IReadOnlySet<int>? removed = null,
        Func<IEnumerable<int>, IEnumerable<int>>? order = null,
        int? inMemoryBaselineLimit = null,
        int? spillPartitions = null,
        bool manifest = false)
    {
        var dataset = storage.Dataset;
        var previousJob = Guid.NewGuid();
        var identity = new ModelIdentity("efficientnet_b0", ModelIdentity.RandomWeights(1), B0);
        await WritePreviousRunAsync(storage, previousJob, identity, cancellationToken);
        foreach (var index in changed)
        {
            dataset.Change(index);
        }

        var job = new JobRecord
        {
            JobId = Guid.NewGuid(),
            Spec = new JobSpec { Dataset = "sim://data", Model = "efficientnet_b0", RandomWeights = true, Seed = 1, Incremental = true, ShardSize = 256 },
            Status = JobStatus.Running,
            Output = "sim://out",
            SubmittedAt = DateTimeOffset.UtcNow,
            BaselineLocation = "sim://out",
        };
        var state = new JobStateStore(storage.Output, "state", new JobIndex());
        var planner = new IncrementalPlanner(storage, new BaselineReader(storage, state), new ModelIdentityResolver(storage, Options.Create(new ModelStoreOptions())))
        {
            InMemoryBaselineLimit = inMemoryBaselineLimit ?? IncrementalPlanner.DefaultInMemoryBaselineLimit,
            SpillPartitions = spillPartitions ?? IncrementalPlanner.DefaultSpillPartitions,
        };
        var writer = new ShardPlanWriter(state, job.JobId, job.Spec.ShardSize);
        var watch = Stopwatch.StartNew();
        var listings = 0;
        var plan = await planner.PlanAsync(
            job,
            (onPage, ct) =>
            {
                listings++;
                return ListAsync(storage, removed ?? new HashSet<int>(), order ?? (all => all), onPage, ct);
            },
            writer,
            listedInPathOrder: !manifest,
            cancellationToken);
        await writer.CompleteAsync(cancellationToken);
        var planning = watch.Elapsed;

        // The workers' part, simulated: one result file per shard of the images the plan sends.
        var outcomes = new ShardOutcomeTotals(job.Spec, writer.Shards);
        var classified = 0;
        for (var page = 0; page < writer.Pages; page++)
        {
            var stored = await state.ReadPlanPageAsync(job.JobId, page, cancellationToken);
            for (var offset = 0; offset < stored.Shards.Count; offset++)
            {
                var s = stored.FirstShard + offset;
                var records = stored.Shards[offset].Select(i => Record(i.Path, i.Fingerprint! with { Sha256 = "new" }, 7)).ToList();
                await storage.Output.CommitAsync(JobOutputLayout.ResultKey(job.JobId, s), (stream, ct) => PredictionWriter.WriteAsync(stream, records, ct), cancellationToken);
                outcomes.Add(new ShardOutcome(s, true, records.Count, 0, "", "sim", 0, null, null, null, B0, "Float32"));
                classified += records.Count;
            }
        }

        job = job with { ShardCount = writer.Shards, ImageCount = plan.Listed.Images, Incremental = plan.Info };
        watch.Restart();
        var predictions = new HashingJsonlFormat();
        await using var merged = await new ResultMerger(storage, [predictions]).MergeAsync(job, outcomes, plan.Listed.Images, cancellationToken);
        var statistics = merged.Statistics;
        var merging = watch.Elapsed;
        var changes = await ReadLinesAsync(storage.Output, JobOutputLayout.ChangesName, cancellationToken);
        changes.Sort(StringComparer.Ordinal);
        return new IncrementalScenarioResult(
            dataset.Count, classified, plan.Info.Reused, plan.Info.Removed, plan.Comparison, dataset.Reads, statistics.Total,
            changes.Count, planning, merging, predictions.Sha256(), changes, listings);
    }

    /// <summary>Today's listing, a page of <see cref="DatasetLister.PageSize"/> at a time, in <paramref name="order"/>
    /// (indexes of the simulated dataset), less the removed images.</summary>
    private static async Task<DatasetSummary> ListAsync(
        SimulatedStorage storage,
        IReadOnlySet<int> removed,
        Func<IEnumerable<int>, IEnumerable<int>> order,
        Func<IReadOnlyList<ShardImage>, CancellationToken, Task> onPage,
        CancellationToken cancellationToken)
    {
        var dataset = storage.Dataset;
        long count = 0;
        foreach (var chunk in order(Enumerable.Range(0, dataset.Count).Where(i => !removed.Contains(i))).Chunk(DatasetLister.PageSize))
        {
            var page = chunk.Select(i => new ShardImage(SimulatedDataset.Key(i), null, Fingerprints.FromListing(dataset.Entry(i)))).ToList();
            count += page.Count;
            await onPage(page, cancellationToken);
        }

        return new DatasetSummary("sim://data", count, 0);
    }

    /// <summary>The committed results of an interrupted earlier run into the same output: every image, one shard.</summary>
    private static async Task WritePreviousRunAsync(SimulatedStorage storage, Guid jobId, ModelIdentity identity, CancellationToken cancellationToken)
    {
        var dataset = storage.Dataset;
        await storage.Output.CommitAsync(
            JobOutputLayout.PlannedRunKey(jobId),
            (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(
                $$"""{"jobId":"{{jobId}}","identity":{{JsonSerializer.Serialize(identity, new JsonSerializerOptions(JsonSerializerDefaults.Web))}},"plannedAt":"2026-01-01T00:00:00Z"}"""), ct).AsTask(),
            cancellationToken);
        await storage.Output.CommitAsync(
            JobOutputLayout.ResultKey(jobId, 0),
            (stream, ct) => PredictionWriter.WriteAsync(
                stream, Enumerable.Range(0, dataset.Count).Select(i => Record(SimulatedDataset.Key(i), Fingerprints.FromListing(dataset.Entry(i)) with { Sha256 = "old" }, i % 1000)), ct),
            cancellationToken);
    }

    private static PredictionRecord Record(string path, ImageFingerprint fingerprint, int top1) => new()
    {
        Path = path,
        Top = [new PredictedClass(top1, "class " + top1.ToString(CultureInfo.InvariantCulture), 0.9f)],
        Fingerprint = fingerprint,
    };

    private static async Task<List<string>> ReadLinesAsync(MemoryBlobStore store, string key, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(key, cancellationToken);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            lines.Add(line);
        }

        return lines;
    }

}

/// <summary>predictions.jsonl as the merge writes it, hashed instead of kept.</summary>
internal sealed class HashingJsonlFormat : IOutputFormat
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public string Name => OutputFormats.Jsonl;

    public string FileName => JobOutputLayout.PredictionsName;

    public IOutputWriter Create(OutputContext context) => new JsonlOutputFormat().Create(context with { Destination = new HashingStream(_hash) });

    public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    private sealed class HashingStream(IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => hash.AppendData(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => hash.AppendData(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
