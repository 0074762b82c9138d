using System.Text;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Simulation;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>
/// A job's stored outcome totals (<c>totals/{id}.json</c>): status and the merge read them and only the outcomes folded
/// since, never one object per shard; a success replaces a failure; totals that are damaged, missing or of another plan
/// are rebuilt from the outcome objects, which stay the record of each shard.
/// </summary>
public sealed class ShardOutcomeTotalsStoreTests
{
    private const int Shards = 2_000;
    private readonly CountingStore _store = new(new MemoryBlobStore());
    private readonly JobStateStore _state;
    private readonly JobRecord _job;

    public ShardOutcomeTotalsStoreTests()
    {
        _state = new JobStateStore(_store, "state", new JobIndex());
        _job = new JobRecord
        {
            JobId = Guid.NewGuid(),
            Spec = new JobSpec { Dataset = "sim://data", Model = "efficientnet_b0", RandomWeights = true },
            Status = JobStatus.Running,
            Output = "sim://out/job",
            SubmittedAt = DateTimeOffset.UnixEpoch,
            ShardCount = Shards,
        };
    }

    private static ShardOutcome Success(int shard, string worker = "w1") =>
        new(shard, true, 3, shard % 7 == 0 ? 1 : 0, $"sim://out/job/{shard}.jsonl", worker, 0.5 + (shard % 10), null, ExecutionProvider: "CPUExecutionProvider", Precision: "fp32");

    private static ShardOutcome Failure(int shard) => new(shard, false, 0, 4, $"sim://out/job/{shard}.failed.jsonl", null, 0, "poison");

    private async Task<List<ShardOutcome>> WriteAsync(IEnumerable<ShardOutcome> outcomes)
    {
        var written = new List<ShardOutcome>();
        foreach (var outcome in outcomes)
        {
            Assert.True(await _state.WriteShardOutcomeAsync(_job.JobId, outcome, CancellationToken.None));
            written.Add(outcome);
        }

        return written;
    }

    private static void AssertSameTotals(ShardOutcomeTotals expected, ShardOutcomeTotals actual)
    {
        Assert.Equal((expected.Count, expected.Succeeded, expected.ImagesOk, expected.ImagesFailed), (actual.Count, actual.Succeeded, actual.ImagesOk, actual.ImagesFailed));
        Assert.Equal(expected.FailedShards, actual.FailedShards);
        Assert.Equal(expected.ShardsByWorker, actual.ShardsByWorker);
        Assert.Equal(expected.DeviceSeconds, actual.DeviceSeconds);
        Assert.Equal(expected.ExecutionProviders, actual.ExecutionProviders);
        Assert.Equal(expected.Precisions, actual.Precisions);
        Assert.Equal(expected.LongestShardSeconds, actual.LongestShardSeconds);
        for (var shard = 0; shard < expected.ShardCount; shard++)
        {
            Assert.Equal(
                (expected.Has(shard), expected.Has(shard) && expected.SucceededAt(shard), expected.ImagesOkAt(shard), expected.ImagesFailedAt(shard)),
                (actual.Has(shard), actual.Has(shard) && actual.SucceededAt(shard), actual.ImagesOkAt(shard), actual.ImagesFailedAt(shard)));
        }
    }

    [Fact]
    public async Task Reading_the_totals_reads_the_stored_aggregate_and_only_the_outcomes_folded_since()
    {
        var outcomes = await WriteAsync(Enumerable.Range(0, Shards - 10).Select(s => Success(s, s % 2 == 0 ? "w1" : "w2")));
        await _state.FoldIntoStoredTotalsAsync(_job, outcomes, CancellationToken.None);
        outcomes.AddRange(await WriteAsync(Enumerable.Range(Shards - 10, 10).Select(s => Success(s))));
        var expected = new ShardOutcomeTotals(_job.Spec, Shards);
        outcomes.ForEach(expected.Add);

        _store.Reset();
        var totals = await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None);

        AssertSameTotals(expected, totals);
        Assert.Equal(10, _store.ReadsUnder("state/shards/"));
        Assert.Equal(1, _store.ReadsUnder("state/totals/"));
        Assert.Equal(0, _store.Listings);

        // The read stored what it folded: the next one reads the aggregate alone.
        _store.Reset();
        AssertSameTotals(expected, await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None));
        Assert.Equal(0, _store.ReadsUnder("state/shards/"));
        Assert.Equal(1, _store.ReadsUnder("state/totals/"));
    }

    [Fact]
    public async Task Without_stored_totals_the_outcomes_are_listed_folded_and_stored_once()
    {
        var outcomes = await WriteAsync(Enumerable.Range(0, 1_500).Select(s => Success(s)));
        var expected = new ShardOutcomeTotals(_job.Spec, Shards);
        outcomes.ForEach(expected.Add);

        var totals = await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None);

        // 2,000 shards of which 1,500 have an outcome: more are missing than are read by key, so they are listed.
        AssertSameTotals(expected, totals);
        Assert.Equal(1_500, _store.ReadsUnder("state/shards/"));
        Assert.True(_store.Listings > 0);
        _store.Reset();
        AssertSameTotals(expected, await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None));
        Assert.Equal(0, _store.ReadsUnder("state/shards/"));
    }

    [Fact]
    public async Task A_late_success_replaces_a_stored_failure_and_a_late_failure_changes_nothing()
    {
        await WriteAsync([Success(0), Failure(1), Success(2)]);
        await _state.FoldIntoStoredTotalsAsync(_job, [Success(0), Failure(1), Success(2)], CancellationToken.None);
        var before = await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None);
        Assert.Equal([1], before.FailedShards.Select(f => f.Index));
        Assert.Equal(4, before.ImagesFailedAt(1));

        // A redelivered shard committed after its failure was recorded: the success overwrites the failure's object.
        await WriteAsync([Success(1, "w9")]);
        Assert.False(await _state.WriteShardOutcomeAsync(_job.JobId, Failure(0), CancellationToken.None));
        await _state.FoldIntoStoredTotalsAsync(_job, [Failure(0)], CancellationToken.None);
        var after = await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None);

        Assert.Empty(after.FailedShards);
        Assert.True(after.AllSucceeded);
        Assert.Equal((3, 3), (after.Count, after.Succeeded));
        Assert.Equal(9, after.ImagesOk);
        Assert.Equal(1, after.ImagesFailed);
        Assert.True(after.SucceededAt(0));
        Assert.Equal(1, after.ShardsByWorker["w9"]);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"shardCount":2000,"states":"AAE=","imagesOk":"","imagesFailed":"","failedShards":[],"shardsByWorker":{},"deviceSeconds":{},"executionProviders":[],"precisions":[],"untrained":false,"longestShardSeconds":0,"identities":[]}""")]
    [InlineData("""{"shardCount":2000}""")]
    [InlineData("""{"shardCount":7,"states":"AAAAAAAAAA==","imagesOk":"","imagesFailed":"","failedShards":[],"shardsByWorker":{},"deviceSeconds":{},"executionProviders":[],"precisions":[],"untrained":false,"longestShardSeconds":0,"identities":[]}""")]
    public async Task Damaged_or_foreign_stored_totals_are_rebuilt_from_the_outcomes(string stored)
    {
        var outcomes = await WriteAsync(Enumerable.Range(0, 40).Select(s => s == 5 ? Failure(s) : Success(s)));
        await _store.WriteAsync($"state/totals/{_job.JobId:N}.json", new MemoryStream(Encoding.UTF8.GetBytes(stored)), WriteCondition.None, CancellationToken.None);
        var expected = new ShardOutcomeTotals(_job.Spec, Shards);
        outcomes.ForEach(expected.Add);

        AssertSameTotals(expected, await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None));
        // The rebuilt totals replaced the damaged ones.
        _store.Reset();
        AssertSameTotals(expected, await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None));
        Assert.Equal(1, _store.ReadsUnder("state/shards/"));
    }

    [Fact]
    public async Task Writers_folding_at_once_lose_no_outcome()
    {
        var outcomes = await WriteAsync(Enumerable.Range(0, 400).Select(s => Success(s)));

        await Task.WhenAll(outcomes.Chunk(25).Select(chunk => Task.Run(() => _state.FoldIntoStoredTotalsAsync(_job, chunk, CancellationToken.None))));

        _store.Reset();
        var totals = await _state.ReadShardOutcomeTotalsAsync(_job, CancellationToken.None);
        Assert.Equal(400, totals.Count);
        Assert.Equal(0, _store.ReadsUnder("state/shards/"));
    }

    [Fact]
    public async Task Deleting_a_job_removes_its_stored_totals()
    {
        await WriteAsync([Success(0)]);
        await _state.FoldIntoStoredTotalsAsync(_job, [Success(0)], CancellationToken.None);
        Assert.NotNull(await _store.GetPropertiesAsync($"state/totals/{_job.JobId:N}.json", CancellationToken.None));

        await _state.DeleteAsync(_job.JobId, CancellationToken.None);

        Assert.Null(await _store.GetPropertiesAsync($"state/totals/{_job.JobId:N}.json", CancellationToken.None));
    }

    /// <summary>Counts the objects read (by key) and the listing pages asked for.</summary>
    private sealed class CountingStore(IBlobStore inner) : IBlobStore
    {
        private readonly List<string> _reads = [];
        private int _listings;

        public int Listings => Volatile.Read(ref _listings);

        public int ReadsUnder(string prefix)
        {
            lock (_reads)
            {
                return _reads.Count(k => k.StartsWith(prefix, StringComparison.Ordinal));
            }
        }

        public void Reset()
        {
            lock (_reads)
            {
                _reads.Clear();
            }

            Volatile.Write(ref _listings, 0);
        }

        public string Describe(string key = "") => inner.Describe(key);

        public Task<BlobPage> ListPageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _listings);
            return inner.ListPageAsync(prefix, continuationToken, pageSize, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
        {
            lock (_reads)
            {
                _reads.Add(key);
            }

            return inner.OpenReadAsync(key, cancellationToken);
        }

        public Task<BlobEntry?> GetPropertiesAsync(string key, CancellationToken cancellationToken) => inner.GetPropertiesAsync(key, cancellationToken);

        public Task<BlobEntry> WriteAsync(string key, Stream content, WriteCondition condition, CancellationToken cancellationToken) =>
            inner.WriteAsync(key, content, condition, cancellationToken);

        public Task<BlobEntry> CommitAsync(string key, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken) =>
            inner.CommitAsync(key, writeContent, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
    }
}
