using System.Collections.Concurrent;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// In-memory view of the shards of each unfinished job: which have an outcome, which a worker has started, which were
/// skipped for a cancel, and the outcomes recorded since the job's stored totals last took them in
/// (<see cref="TakeUnstored"/>). A shard event costs O(1) instead of a listing of every outcome. It is loaded from the
/// job's stored totals the first time a job is touched (e.g. after a restart), and they are read once more before a job
/// is merged. Finished jobs are forgotten: their counts are in the job record. The merge forgets the jobs it
/// finishes; the sweep (<see cref="RetainOnlyAsync"/>) forgets the rest: jobs another coordinator finished or deleted, and
/// those a late event tracked again after their merge, so the tracker never holds more than the unfinished jobs.
/// </summary>
public sealed class JobProgressTracker(TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<JobProgress>>> _jobs = new();

    public int TrackedJobs => _jobs.Count;

    public async Task<JobProgressSnapshot> RecordAsync(Guid jobId, ShardOutcome outcome, Func<Task<ShardOutcomeTotals>> load) =>
        (await GetAsync(jobId, load)).Add(outcome, clock.GetUtcNow());

    public async Task<JobProgressSnapshot> StartedAsync(Guid jobId, int shardIndex, Func<Task<ShardOutcomeTotals>> load) =>
        (await GetAsync(jobId, load)).Start(shardIndex, clock.GetUtcNow());

    public async Task<JobProgressSnapshot> SkippedAsync(Guid jobId, int shardIndex, Func<Task<ShardOutcomeTotals>> load) =>
        (await GetAsync(jobId, load)).Skip(shardIndex);

    public async Task<JobProgressSnapshot> GetSnapshotAsync(Guid jobId, Func<Task<ShardOutcomeTotals>> load) =>
        (await GetAsync(jobId, load)).Snapshot();

    /// <summary>The outcomes recorded for the job since the last call, once there are at least <paramref name="atLeast"/>
    /// of them (else none), for the caller to fold into the job's stored totals.</summary>
    public IReadOnlyList<ShardOutcome> TakeUnstored(Guid jobId, int atLeast) =>
        _jobs.TryGetValue(jobId, out var lazy) && lazy.Value.IsCompletedSuccessfully ? lazy.Value.Result.TakeUnstored(atLeast) : [];

    public void Forget(Guid jobId) => _jobs.TryRemove(jobId, out _);

    /// <summary>Forgets every tracked job for which <paramref name="isUnfinished"/> is false; returns how many.</summary>
    public async Task<int> RetainOnlyAsync(Func<Guid, Task<bool>> isUnfinished)
    {
        var forgotten = 0;
        foreach (var jobId in _jobs.Keys)
        {
            if (!await isUnfinished(jobId) && _jobs.TryRemove(jobId, out _))
            {
                forgotten++;
            }
        }

        return forgotten;
    }

    private async Task<JobProgress> GetAsync(Guid jobId, Func<Task<ShardOutcomeTotals>> load)
    {
        var lazy = _jobs.GetOrAdd(jobId, _ => new Lazy<Task<JobProgress>>(async () => new JobProgress(await load(), clock.GetUtcNow())));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            _jobs.TryRemove(new KeyValuePair<Guid, Lazy<Task<JobProgress>>>(jobId, lazy));
            throw;
        }
    }

    private sealed class JobProgress
    {
        private readonly Lock _gate = new();

        // The durable outcomes as loaded, with this coordinator's since folded in (nine bytes per shard).
        private readonly ShardOutcomeTotals _outcomes;
        private readonly HashSet<int> _running = [];
        private readonly HashSet<int> _skipped = [];
        private List<ShardOutcome> _unstored = [];
        private DateTimeOffset? _firstStarted;

        public JobProgress(ShardOutcomeTotals loaded, DateTimeOffset now)
        {
            _outcomes = loaded;
            if (loaded.Count > 0)
            {
                _firstStarted = now - TimeSpan.FromSeconds(loaded.LongestShardSeconds);
            }
        }

        public List<ShardOutcome> TakeUnstored(int atLeast)
        {
            lock (_gate)
            {
                if (_unstored.Count < atLeast || _unstored.Count == 0)
                {
                    return [];
                }

                var taken = _unstored;
                _unstored = [];
                return taken;
            }
        }

        public JobProgressSnapshot Add(ShardOutcome outcome, DateTimeOffset now)
        {
            lock (_gate)
            {
                _outcomes.Add(outcome);
                _running.Remove(outcome.ShardIndex);
                _skipped.Remove(outcome.ShardIndex);
                _firstStarted ??= now - TimeSpan.FromSeconds(Math.Max(0, outcome.Seconds));
                _unstored.Add(outcome);
                return SnapshotLocked();
            }
        }

        public JobProgressSnapshot Start(int shardIndex, DateTimeOffset now)
        {
            lock (_gate)
            {
                if (!_outcomes.Has(shardIndex))
                {
                    _running.Add(shardIndex);
                }

                _firstStarted ??= now;
                return SnapshotLocked();
            }
        }

        public JobProgressSnapshot Skip(int shardIndex)
        {
            lock (_gate)
            {
                _running.Remove(shardIndex);
                if (!_outcomes.Has(shardIndex))
                {
                    _skipped.Add(shardIndex);
                }

                return SnapshotLocked();
            }
        }

        public JobProgressSnapshot Snapshot()
        {
            lock (_gate)
            {
                return SnapshotLocked();
            }
        }

        private JobProgressSnapshot SnapshotLocked() =>
            new(_outcomes.Succeeded, _outcomes.Count - _outcomes.Succeeded, _running.Count, _skipped.Count, _outcomes.ImagesOk, _outcomes.ImagesFailed, _firstStarted);
    }
}

/// <param name="ShardsSucceeded">Shards classified and committed by a worker.</param>
/// <param name="ShardsFailed">Shards that failed after every retry.</param>
/// <param name="ShardsRunning">Started by a worker, no outcome yet.</param>
/// <param name="ShardsSkipped">Not classified because the job was cancelled.</param>
/// <param name="FirstStartedAt">When the first shard started (the start of the rate's window), if known.</param>
public sealed record JobProgressSnapshot(
    int ShardsSucceeded,
    int ShardsFailed,
    int ShardsRunning,
    int ShardsSkipped,
    long ImagesOk,
    long ImagesFailed,
    DateTimeOffset? FirstStartedAt)
{
    public static readonly JobProgressSnapshot Empty = new(0, 0, 0, 0, 0, 0, null);

    /// <summary>Shards with a durable outcome.</summary>
    public int ShardsDone => ShardsSucceeded + ShardsFailed;
}
