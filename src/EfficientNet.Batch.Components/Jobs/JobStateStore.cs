using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Durable job state in blob storage, so that a restarted coordinator picks its jobs up again.
/// Layout under the state prefix: <c>jobs/{id}.json</c> (the record), <c>shards/{id}/{index}.json</c> (one outcome per
/// finished shard) and <c>leases/{id}.json</c> (who merges the job). Records are updated with optimistic concurrency.
/// </summary>
public sealed class JobStateStore(IBlobStore store, string prefix)
{
    private const int PageSize = 1000;

    public string Describe() => store.Describe(prefix);

    public async Task CreateAsync(JobRecord record, CancellationToken cancellationToken)
    {
        await WriteJsonAsync(RecordKey(record.JobId), record, IndentedJobJsonContext.Default.JobRecord, WriteCondition.Absent, cancellationToken);
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
                ?? throw new InvalidOperationException($"Job {jobId} does not exist in {Describe()}.");
            var next = change(current.Value);
            if (ReferenceEquals(next, current.Value) || next == current.Value)
            {
                return current.Value;
            }

            try
            {
                await WriteJsonAsync(RecordKey(jobId), next, IndentedJobJsonContext.Default.JobRecord, WriteCondition.Matches(current.ETag), cancellationToken);
                return next;
            }
            catch (BlobConditionFailedException) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken);
            }
        }
    }

    public async IAsyncEnumerable<JobRecord> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entry in store.ListAllAsync(Join("jobs/"), PageSize, cancellationToken))
        {
            if (!entry.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }

            var record = await ReadJsonAsync(entry.Key, JobJsonContext.Default.JobRecord, cancellationToken);
            if (record is not null)
            {
                yield return record.Value.Value;
            }
        }
    }

    /// <summary>Records a shard's outcome. Idempotent: a redelivered event overwrites the same object.</summary>
    public Task WriteShardOutcomeAsync(Guid jobId, ShardOutcome outcome, CancellationToken cancellationToken) =>
        WriteJsonAsync(Join($"shards/{jobId:N}/{outcome.ShardIndex:D6}.json"), outcome, JobJsonContext.Default.ShardOutcome, WriteCondition.None, cancellationToken);

    public async Task<IReadOnlyList<ShardOutcome>> ListShardOutcomesAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var outcomes = new List<ShardOutcome>();
        await foreach (var entry in store.ListAllAsync(Join($"shards/{jobId:N}/"), PageSize, cancellationToken))
        {
            var outcome = await ReadJsonAsync(entry.Key, JobJsonContext.Default.ShardOutcome, cancellationToken);
            if (outcome is not null)
            {
                outcomes.Add(outcome.Value.Value);
            }
        }

        return outcomes;
    }

    /// <summary>Takes the right to merge a job. A lease older than <paramref name="staleAfter"/> is taken over, so a
    /// coordinator that died while merging does not block the job forever.</summary>
    public async Task<bool> TryAcquireFinalizeLeaseAsync(Guid jobId, string owner, DateTimeOffset now, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        var key = Join($"leases/{jobId:N}.json");
        var lease = new FinalizeLease(owner, now);
        try
        {
            await WriteJsonAsync(key, lease, JobJsonContext.Default.FinalizeLease, WriteCondition.Absent, cancellationToken);
            return true;
        }
        catch (BlobConditionFailedException)
        {
            var existing = await ReadJsonAsync(key, JobJsonContext.Default.FinalizeLease, cancellationToken);
            if (existing is null || now - existing.Value.Value.AcquiredAt < staleAfter)
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

    public async Task ReleaseFinalizeLeaseAsync(Guid jobId, CancellationToken cancellationToken) =>
        await store.DeleteAsync(Join($"leases/{jobId:N}.json"), cancellationToken);

    private string RecordKey(Guid jobId) => Join($"jobs/{jobId:N}.json");

    private string Join(string key) => BlobKey.Join(prefix, key);


    private async Task WriteJsonAsync<T>(string key, T value, JsonTypeInfo<T> typeInfo, WriteCondition condition, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await JsonSerializer.SerializeAsync(buffer, value, typeInfo, cancellationToken);
        buffer.Position = 0;
        await store.WriteAsync(key, buffer, condition, cancellationToken);
    }

    /// <summary>Reads an object and the entity tag of exactly the content read: the tag is checked before and after,
    /// and the read is repeated if a writer slipped in between.</summary>
    private async Task<(T Value, string ETag)?> ReadJsonAsync<T>(string key, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var before = await store.GetPropertiesAsync(key, cancellationToken);
            if (before is null)
            {
                return null;
            }

            T? value;
            try
            {
                await using var stream = await store.OpenReadAsync(key, cancellationToken);
                value = await JsonSerializer.DeserializeAsync(stream, typeInfo, cancellationToken);
            }
            catch (BlobNotFoundException)
            {
                return null;
            }

            var after = await store.GetPropertiesAsync(key, cancellationToken);
            if (after is not null && after.ETag == before.ETag && value is not null)
            {
                return (value, after.ETag);
            }
        }

        throw new InvalidOperationException($"'{store.Describe(key)}' keeps changing while being read.");
    }
}
