using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EfficientNet.Batch.Storage;
using EfficientNet.Batch.Components.Shards;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Durable job state in blob storage, so that a restarted coordinator picks its jobs up again.
/// Layout under the state prefix: <c>jobs/{id}.json</c> (the record), <c>shards/{id}/{index}.json</c> (one outcome per
/// finished shard: the commit point of each shard's outcome), <c>totals/{id}.json</c> (the outcomes folded so far, one
/// object per job), <c>plans/{id}/</c> (the shard plan) and <c>leases/{id}.json</c> (who merges the job). Records and
/// the folded totals are updated with optimistic concurrency, and every record write also updates the in-memory
/// <see cref="JobIndex"/>.
/// </summary>
public sealed class JobStateStore(IBlobStore store, string prefix, JobIndex index) : IDisposable
{
    private const int PageSize = 1000;

    /// <summary>Outcome objects read at once when a job's outcomes are streamed.</summary>
    private const int OutcomeReadParallelism = 32;

    /// <summary>Up to this many shards missing from the stored totals, their outcomes are read by key; past it, the
    /// job's outcomes are listed and only those missing are read.</summary>
    private const int DirectOutcomeReads = 1024;

    private const int TotalsWriteAttempts = 8;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile bool _loaded;

    public void Dispose() => _loading.Dispose();

    public string Describe() => store.Describe(prefix);

    /// <summary>The location of the state, as a location string (for the output-overlap check).</summary>
    public string Location => store.Describe(prefix);

    public JobIndex Index => index;

    /// <summary>Fills <see cref="Index"/> from storage the first time it is needed (one listing per process).</summary>
    public async Task<JobIndex> LoadIndexAsync(CancellationToken cancellationToken)
    {
        if (_loaded)
        {
            return index;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (!_loaded)
            {
                await foreach (var record in ListAsync(cancellationToken))
                {
                    index.AddLoaded(record);
                }

                index.LoadingFinished();
                _loaded = true;
            }
        }
        finally
        {
            _loading.Release();
        }

        return index;
    }

    public async Task CreateAsync(JobRecord record, CancellationToken cancellationToken)
    {
        await WriteJsonAsync(RecordKey(record.JobId), record, IndentedJobJsonContext.Default.JobRecord, WriteCondition.Absent, cancellationToken);
        index.Upsert(record);
    }

    public async Task<JobRecord?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        (await ReadJsonAsync(RecordKey(jobId), JobJsonContext.Default.JobRecord, cancellationToken))?.Value;

    /// <summary>Applies <paramref name="change"/> to the current record and writes it back only if nobody wrote in
    /// between; on a conflict it re-reads and tries again. Returns the record as stored.</summary>
    public async Task<JobRecord> UpdateAsync(Guid jobId, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await ReadJsonAsync(RecordKey(jobId), JobJsonContext.Default.JobRecord, cancellationToken)
                ?? throw new JobNotFoundException(jobId);
            var next = change(current.Value);
            if (ReferenceEquals(next, current.Value) || next == current.Value)
            {
                return current.Value;
            }

            try
            {
                await WriteJsonAsync(RecordKey(jobId), next, IndentedJobJsonContext.Default.JobRecord, WriteCondition.Matches(current.ETag), cancellationToken);
                index.Upsert(next);
                return next;
            }
            catch (BlobConditionFailedException) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>Every job record in storage. An object under <c>jobs/</c> that is not a job record is skipped, so a
    /// stray file cannot stop the coordinator.</summary>
    public async IAsyncEnumerable<JobRecord> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entry in store.ListAllAsync(Join("jobs/"), PageSize, cancellationToken))
        {
            if (!entry.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }

            (JobRecord Value, string ETag)? record;
            try
            {
                record = await ReadJsonAsync(entry.Key, JobJsonContext.Default.JobRecord, cancellationToken);
            }
            catch (JsonException)
            {
                continue;
            }

            if (record is { Value: { Spec: not null, Output: not null } value })
            {
                yield return value;
            }
        }
    }

    /// <summary>Records a shard's outcome. A success always wins (a redelivered event overwrites the same object); a
    /// failure is written only if the shard has no outcome yet, so it never replaces a committed success. Returns
    /// false when the outcome was not written.</summary>
    public async Task<bool> WriteShardOutcomeAsync(Guid jobId, ShardOutcome outcome, CancellationToken cancellationToken)
    {
        try
        {
            await WriteJsonAsync(
                OutcomeKey(jobId, outcome.ShardIndex),
                outcome,
                JobJsonContext.Default.ShardOutcome,
                outcome.Succeeded ? WriteCondition.None : WriteCondition.Absent,
                cancellationToken);
            return true;
        }
        catch (BlobConditionFailedException) when (!outcome.Succeeded)
        {
            return false;
        }
    }

    public async Task<ShardOutcome?> GetShardOutcomeAsync(Guid jobId, int shardIndex, CancellationToken cancellationToken) =>
        (await ReadJsonAsync(OutcomeKey(jobId, shardIndex), JobJsonContext.Default.ShardOutcome, cancellationToken))?.Value;

    /// <summary>Lists a job's outcome objects and reads those of the shards <paramref name="wanted"/> accepts (an object
    /// whose name is not a shard index is read too: the outcome inside says which shard it is),
    /// <see cref="OutcomeReadParallelism"/> at once; nothing is collected.</summary>
    private async IAsyncEnumerable<ShardOutcome> StreamOutcomesAsync(Guid jobId, Func<int, bool> wanted, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var window = new List<string>(OutcomeReadParallelism);
        await foreach (var entry in store.ListAllAsync(Join($"shards/{jobId:N}/"), PageSize, cancellationToken))
        {
            if (ShardIndexOf(entry.Key) is { } index && !wanted(index))
            {
                continue;
            }

            window.Add(entry.Key);
            if (window.Count < OutcomeReadParallelism)
            {
                continue;
            }

            foreach (var outcome in await ReadOutcomesAsync(window, cancellationToken))
            {
                yield return outcome;
            }

            window.Clear();
        }

        foreach (var outcome in await ReadOutcomesAsync(window, cancellationToken))
        {
            yield return outcome;
        }
    }

    private static int? ShardIndexOf(string key)
    {
        var name = key.AsSpan(key.LastIndexOf('/') + 1);
        return name.EndsWith(".json", StringComparison.Ordinal)
            && int.TryParse(name[..^".json".Length], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : null;
    }

    /// <summary>A job's shard outcomes folded into one aggregate (<see cref="ShardOutcomeTotals"/>): the stored totals,
    /// plus the outcomes of the shards they do not have as succeeded (read by key when few, else found by a listing).
    /// When that adds anything, the totals are stored again, so the next reader starts from there. Stored totals that are
    /// missing, damaged or of another plan are rebuilt from the outcomes, which stay the record of each shard.</summary>
    public async Task<ShardOutcomeTotals> ReadShardOutcomeTotalsAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var (totals, etag) = await ReadStoredTotalsAsync(job, cancellationToken);
        var (count, succeeded) = (totals.Count, totals.Succeeded);
        var pending = totals.Pending <= DirectOutcomeReads
            ? ReadOutcomesByKeyAsync(job.JobId, totals.PendingShards().ToList(), cancellationToken)
            : StreamOutcomesAsync(job.JobId, totals.IsPending, cancellationToken);
        await foreach (var outcome in pending)
        {
            totals.Add(outcome);
        }

        if (totals.Count != count || totals.Succeeded != succeeded)
        {
            await TryWriteTotalsAsync(job.JobId, totals, etag, cancellationToken);
        }

        return totals;
    }

    /// <summary>Folds outcomes already written (<see cref="WriteShardOutcomeAsync"/>) into the job's stored totals, so
    /// that status and the merge need not read them again one object each. Writers that race retry on the stored
    /// version; folding an outcome twice changes nothing.</summary>
    public async Task FoldIntoStoredTotalsAsync(JobRecord job, IReadOnlyCollection<ShardOutcome> outcomes, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (totals, etag) = await ReadStoredTotalsAsync(job, cancellationToken);
            foreach (var outcome in outcomes)
            {
                totals.Add(outcome);
            }

            if (await TryWriteTotalsAsync(job.JobId, totals, etag, cancellationToken) || attempt == TotalsWriteAttempts)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken);
        }
    }

    /// <summary>The job's stored totals and their version (null when none are stored), or empty totals.</summary>
    private async Task<(ShardOutcomeTotals Totals, string? ETag)> ReadStoredTotalsAsync(JobRecord job, CancellationToken cancellationToken)
    {
        (ShardOutcomeTotalsSnapshot Value, string ETag)? stored;
        try
        {
            stored = await ReadJsonAsync(TotalsKey(job.JobId), JobJsonContext.Default.ShardOutcomeTotalsSnapshot, cancellationToken);
        }
        catch (JsonException)
        {
            return (new ShardOutcomeTotals(job.Spec, job.ShardCount), await ETagOfAsync(TotalsKey(job.JobId), cancellationToken));
        }

        if (stored is not { } snapshot)
        {
            return (new ShardOutcomeTotals(job.Spec, job.ShardCount), null);
        }

        try
        {
            return snapshot.Value.ShardCount == job.ShardCount
                ? (ShardOutcomeTotals.FromSnapshot(job.Spec, snapshot.Value), snapshot.ETag)
                : (new ShardOutcomeTotals(job.Spec, job.ShardCount), snapshot.ETag);
        }
        catch (InvalidDataException)
        {
            return (new ShardOutcomeTotals(job.Spec, job.ShardCount), snapshot.ETag);
        }
    }

    private async Task<string?> ETagOfAsync(string key, CancellationToken cancellationToken) =>
        (await store.GetPropertiesAsync(key, cancellationToken))?.ETag;

    /// <summary>Stores the totals if the stored version is still <paramref name="etag"/> (absent when null). Returns
    /// false when another writer came first.</summary>
    private async Task<bool> TryWriteTotalsAsync(Guid jobId, ShardOutcomeTotals totals, string? etag, CancellationToken cancellationToken)
    {
        try
        {
            await WriteJsonAsync(
                TotalsKey(jobId), totals.ToSnapshot(), JobJsonContext.Default.ShardOutcomeTotalsSnapshot,
                etag is null ? WriteCondition.Absent : WriteCondition.Matches(etag), cancellationToken);
            return true;
        }
        catch (BlobConditionFailedException)
        {
            return false;
        }
    }

    /// <summary>The outcomes of the given shards, read by key <see cref="OutcomeReadParallelism"/> at a time; a shard
    /// without one is left out.</summary>
    private async IAsyncEnumerable<ShardOutcome> ReadOutcomesByKeyAsync(Guid jobId, List<int> shards, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var window in shards.Chunk(OutcomeReadParallelism))
        {
            foreach (var outcome in await ReadOutcomesAsync([.. window.Select(shard => OutcomeKey(jobId, shard))], cancellationToken))
            {
                yield return outcome;
            }
        }
    }

    private async Task<IEnumerable<ShardOutcome>> ReadOutcomesAsync(List<string> keys, CancellationToken cancellationToken)
    {
        // An outcome deleted between the listing and the read (the job was deleted) is left out.
        var read = await Task.WhenAll(keys.Select(key => ReadJsonAsync(key, JobJsonContext.Default.ShardOutcome, cancellationToken)));
        return read.Where(r => r is not null).Select(r => r!.Value.Value);
    }

    /// <summary>Takes the right to merge a job. A lease not renewed for <paramref name="staleAfter"/> is taken over,
    /// so a coordinator that died while merging blocks the job for no longer than that.</summary>
    public async Task<bool> TryAcquireFinalizeLeaseAsync(Guid jobId, string owner, DateTimeOffset now, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        var key = LeaseKey(jobId);
        var lease = new FinalizeLease(owner, now);
        try
        {
            await WriteJsonAsync(key, lease, JobJsonContext.Default.FinalizeLease, WriteCondition.Absent, cancellationToken);
            return true;
        }
        catch (BlobConditionFailedException)
        {
            var existing = await ReadJsonAsync(key, JobJsonContext.Default.FinalizeLease, cancellationToken);
            if (existing is null || now - existing.Value.Value.LastSeen < staleAfter)
            {
                return false;
            }

            try
            {
                await WriteJsonAsync(key, lease, JobJsonContext.Default.FinalizeLease, WriteCondition.Matches(existing.Value.ETag), cancellationToken);
                return true;
            }
            catch (BlobConditionFailedException)
            {
                return false;
            }
        }
    }

    /// <summary>Shows that the holder of a merge lease is alive. Returns false when the lease was lost (taken over).</summary>
    public async Task<bool> RenewFinalizeLeaseAsync(Guid jobId, string owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await ReadJsonAsync(LeaseKey(jobId), JobJsonContext.Default.FinalizeLease, cancellationToken);
        if (existing is null || existing.Value.Value.Owner != owner)
        {
            return false;
        }

        try
        {
            await WriteJsonAsync(
                LeaseKey(jobId), existing.Value.Value with { RenewedAt = now }, JobJsonContext.Default.FinalizeLease,
                WriteCondition.Matches(existing.Value.ETag), cancellationToken);
            return true;
        }
        catch (BlobConditionFailedException)
        {
            return false;
        }
    }

    public async Task ReleaseFinalizeLeaseAsync(Guid jobId, CancellationToken cancellationToken) =>
        await store.DeleteAsync(LeaseKey(jobId), cancellationToken);

    /// <summary>Stores page <paramref name="page"/> of a job's shard plan (a replan overwrites it).</summary>
    public Task WritePlanPageAsync(Guid jobId, ShardPlanPage page, CancellationToken cancellationToken) =>
        WriteJsonAsync(PlanPageKey(jobId, page.Page), page, JobJsonContext.Default.ShardPlanPage, WriteCondition.None, cancellationToken);

    /// <exception cref="InvalidDataException">The page is missing: the plan the job record counts is not whole.</exception>
    public async Task<ShardPlanPage> ReadPlanPageAsync(Guid jobId, int page, CancellationToken cancellationToken) =>
        (await ReadJsonAsync(PlanPageKey(jobId, page), JobJsonContext.Default.ShardPlanPage, cancellationToken))?.Value
        ?? throw new InvalidDataException($"Page {page} of the shard plan of job {jobId} is missing ({store.Describe(PlanPageKey(jobId, page))}).");

    /// <summary>Removes a job's stored shard plan (once it is dispatched and merged, nothing reads it again).</summary>
    public Task DeletePlanAsync(Guid jobId, CancellationToken cancellationToken) => store.DeleteAllAsync(Join($"plans/{jobId:N}/"), cancellationToken);

    /// <summary>Removes everything stored about a job (record, shard plan, shard outcomes and their totals, lease).</summary>
    public async Task DeleteAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await DeletePlanAsync(jobId, cancellationToken);
        await store.DeleteAllAsync(Join($"shards/{jobId:N}/"), cancellationToken);
        await store.DeleteAsync(TotalsKey(jobId), cancellationToken);
        await store.DeleteAsync(LeaseKey(jobId), cancellationToken);
        await store.DeleteAsync(RecordKey(jobId), cancellationToken);
        index.Remove(jobId);
    }

    private string RecordKey(Guid jobId) => Join($"jobs/{jobId:N}.json");

    private string OutcomeKey(Guid jobId, int shardIndex) => Join($"shards/{jobId:N}/{shardIndex:D6}.json");

    private string TotalsKey(Guid jobId) => Join($"totals/{jobId:N}.json");

    private string LeaseKey(Guid jobId) => Join($"leases/{jobId:N}.json");

    private string PlanPageKey(Guid jobId, int page) => Join($"plans/{jobId:N}/page-{page:D6}.json");

    private string Join(string key) => BlobKey.Join(prefix, key);

    private Task WriteJsonAsync<T>(string key, T value, JsonTypeInfo<T> typeInfo, WriteCondition condition, CancellationToken cancellationToken) =>
        store.WriteAsync(key, value, typeInfo, condition, cancellationToken);

    private Task<(T Value, string ETag)?> ReadJsonAsync<T>(string key, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        store.ReadAsync(key, typeInfo, cancellationToken);
}

/// <summary>No job with this id is stored.</summary>
public sealed class JobNotFoundException(Guid jobId) : Exception($"Job {jobId} does not exist.")
{
    public Guid JobId { get; } = jobId;
}
