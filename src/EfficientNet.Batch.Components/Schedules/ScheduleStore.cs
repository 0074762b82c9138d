using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>
/// Durable schedules in the coordinator's state store (the same store and prefix as the jobs): <c>schedules/{id}.json</c>
/// (the schedule) and <c>schedule-runs/{id}/{dueAt:yyyyMMddTHHmmssfffZ}.json</c> (one decision per due time). Schedules
/// are updated with optimistic concurrency; a run is written only if absent, so two coordinators cannot decide the
/// same due time twice.
/// </summary>
public sealed class ScheduleStore(IBlobStore store, string prefix)
{
    public const string DueAtFormat = "yyyyMMdd'T'HHmmssfff'Z'";
    private const int PageSize = 1000;

    public async Task CreateAsync(ScheduleRecord schedule, CancellationToken cancellationToken) =>
        await WriteJsonAsync(ScheduleKey(schedule.Id), schedule, ScheduleJsonContext.Default.ScheduleRecord, WriteCondition.Absent, cancellationToken);

    public async Task<ScheduleRecord?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        (await ReadJsonAsync(ScheduleKey(id), ScheduleJsonContext.Default.ScheduleRecord, cancellationToken))?.Value;

    /// <summary>Applies <paramref name="change"/> to the current schedule and writes it back only if nobody wrote in
    /// between; on a conflict it re-reads and applies it again. Returns the schedule as stored, or null when it does
    /// not exist (deleted).</summary>
    public async Task<ScheduleRecord?> UpdateAsync(Guid id, Func<ScheduleRecord, ScheduleRecord> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await ReadJsonAsync(ScheduleKey(id), ScheduleJsonContext.Default.ScheduleRecord, cancellationToken) is not { } current)
            {
                return null;
            }

            var next = change(current.Value);
            if (next == current.Value)
            {
                return current.Value;
            }

            try
            {
                await WriteJsonAsync(ScheduleKey(id), next, ScheduleJsonContext.Default.ScheduleRecord, WriteCondition.Matches(current.ETag), cancellationToken);
                return next;
            }
            catch (BlobConditionFailedException) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>Every schedule; an object under <c>schedules/</c> that is not one is skipped.</summary>
    public async IAsyncEnumerable<ScheduleRecord> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entry in store.ListAllAsync(Join("schedules/"), PageSize, cancellationToken))
        {
            if (!entry.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }

            (ScheduleRecord Value, string ETag)? record;
            try
            {
                record = await ReadJsonAsync(entry.Key, ScheduleJsonContext.Default.ScheduleRecord, cancellationToken);
            }
            catch (JsonException)
            {
                continue;
            }

            if (record is { Value: { Spec: not null, Cron: not null } value })
            {
                yield return value;
            }
        }
    }

    /// <summary>Removes a schedule and its run records (its jobs stay). Returns false when it did not exist.</summary>
    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        var existed = await store.DeleteAsync(ScheduleKey(id), cancellationToken);
        var keys = new List<string>();
        await foreach (var entry in store.ListAllAsync(RunsPrefix(id), PageSize, cancellationToken))
        {
            keys.Add(entry.Key);
        }

        foreach (var key in keys)
        {
            await store.DeleteAsync(key, cancellationToken);
        }

        return existed;
    }

    /// <summary>Writes the decision for a due time if there is none yet. Returns the decision stored: this one, or the
    /// one another writer stored first.</summary>
    public async Task<(ScheduleRunRecord Run, bool Created)> TryCreateRunAsync(ScheduleRunRecord run, CancellationToken cancellationToken)
    {
        var key = RunKey(run.ScheduleId, run.DueAt);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                await WriteJsonAsync(key, run, ScheduleJsonContext.Default.ScheduleRunRecord, WriteCondition.Absent, cancellationToken);
                return (run, true);
            }
            catch (BlobConditionFailedException)
            {
                if (await ReadJsonAsync(key, ScheduleJsonContext.Default.ScheduleRunRecord, cancellationToken) is { } existing)
                {
                    return (existing.Value, false);
                }
            }
        }

        throw new InvalidOperationException($"'{store.Describe(key)}' keeps appearing and disappearing.");
    }

    /// <summary>Changes a stored run with optimistic concurrency (re-read and re-applied on a conflict).</summary>
    public async Task UpdateRunAsync(Guid scheduleId, DateTimeOffset dueAt, Func<ScheduleRunRecord, ScheduleRunRecord> change, CancellationToken cancellationToken)
    {
        var key = RunKey(scheduleId, dueAt);
        for (var attempt = 1; ; attempt++)
        {
            if (await ReadJsonAsync(key, ScheduleJsonContext.Default.ScheduleRunRecord, cancellationToken) is not { } current)
            {
                return;
            }

            var next = change(current.Value);
            if (next == current.Value)
            {
                return;
            }

            try
            {
                await WriteJsonAsync(key, next, ScheduleJsonContext.Default.ScheduleRunRecord, WriteCondition.Matches(current.ETag), cancellationToken);
                return;
            }
            catch (BlobConditionFailedException) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>A schedule's runs, oldest first.</summary>
    public async Task<IReadOnlyList<ScheduleRunRecord>> ListRunsAsync(Guid scheduleId, CancellationToken cancellationToken)
    {
        var runs = new List<ScheduleRunRecord>();
        await foreach (var entry in store.ListAllAsync(RunsPrefix(scheduleId), PageSize, cancellationToken))
        {
            if (!entry.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                if (await ReadJsonAsync(entry.Key, ScheduleJsonContext.Default.ScheduleRunRecord, cancellationToken) is { } run)
                {
                    runs.Add(run.Value);
                }
            }
            catch (JsonException)
            {
                // Not a run record: skipped, so a stray file cannot stop the schedule.
            }
        }

        runs.Sort((a, b) => a.DueAt.CompareTo(b.DueAt));
        return runs;
    }

    /// <summary>Removes the oldest of <paramref name="runs"/> beyond the newest <paramref name="keep"/>, none at or after
    /// <paramref name="before"/>.</summary>
    public async Task PruneRunsAsync(IReadOnlyList<ScheduleRunRecord> runs, int keep, DateTimeOffset before, CancellationToken cancellationToken)
    {
        foreach (var run in runs.Take(Math.Max(0, runs.Count - keep)).Where(r => r.DueAt < before))
        {
            await store.DeleteAsync(RunKey(run.ScheduleId, run.DueAt), cancellationToken);
        }
    }

    public static string FormatDueAt(DateTimeOffset dueAt) => dueAt.UtcDateTime.ToString(DueAtFormat, CultureInfo.InvariantCulture);

    private string ScheduleKey(Guid id) => Join($"schedules/{id:N}.json");

    private string RunsPrefix(Guid id) => Join($"schedule-runs/{id:N}/");

    private string RunKey(Guid id, DateTimeOffset dueAt) => Join($"schedule-runs/{id:N}/{FormatDueAt(dueAt)}.json");

    private string Join(string key) => BlobKey.Join(prefix, key);

    private Task WriteJsonAsync<T>(string key, T value, JsonTypeInfo<T> typeInfo, WriteCondition condition, CancellationToken cancellationToken) =>
        store.WriteAsync(key, value, typeInfo, condition, cancellationToken);

    private Task<(T Value, string ETag)?> ReadJsonAsync<T>(string key, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        store.ReadAsync(key, typeInfo, cancellationToken);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(ScheduleRecord))]
[JsonSerializable(typeof(ScheduleRunRecord))]
internal sealed partial class ScheduleJsonContext : JsonSerializerContext
{
}
