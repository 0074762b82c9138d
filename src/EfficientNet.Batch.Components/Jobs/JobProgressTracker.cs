using System.Collections.Concurrent;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// In-memory view of which shards of each job are done, so that a shard event costs O(1) instead of a listing of
/// every outcome. It is loaded from the durable outcomes the first time a job is touched (e.g. after a restart), and
/// the durable outcomes are listed once more before a job is merged.
/// </summary>
public sealed class JobProgressTracker
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<JobProgress>>> _jobs = new();

    public async Task<JobProgressSnapshot> RecordAsync(Guid jobId, ShardOutcome outcome, Func<Task<IReadOnlyList<ShardOutcome>>> load)
    {
        var progress = await GetAsync(jobId, load);
        return progress.Add(outcome);
    }

    public async Task<JobProgressSnapshot> GetSnapshotAsync(Guid jobId, Func<Task<IReadOnlyList<ShardOutcome>>> load) =>
        (await GetAsync(jobId, load)).Snapshot();

    public void Forget(Guid jobId) => _jobs.TryRemove(jobId, out _);

    private async Task<JobProgress> GetAsync(Guid jobId, Func<Task<IReadOnlyList<ShardOutcome>>> load)
    {
        var lazy = _jobs.GetOrAdd(jobId, _ => new Lazy<Task<JobProgress>>(async () =>
        {
            var progress = new JobProgress();
            foreach (var outcome in await load())
            {
                progress.Add(outcome);
            }

            return progress;
        }));
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
        private readonly Dictionary<int, ShardOutcome> _shards = [];
        private long _ok;
        private long _failed;

        public JobProgressSnapshot Add(ShardOutcome outcome)
        {
            lock (_gate)
            {
                if (_shards.TryGetValue(outcome.ShardIndex, out var previous))
                {
                    _ok -= previous.ImagesOk;
                    _failed -= previous.ImagesFailed;
                }

                _shards[outcome.ShardIndex] = outcome;
                _ok += outcome.ImagesOk;
                _failed += outcome.ImagesFailed;
                return new JobProgressSnapshot(_shards.Count, _ok, _failed);
            }
        }

        public JobProgressSnapshot Snapshot()
        {
            lock (_gate)
            {
                return new JobProgressSnapshot(_shards.Count, _ok, _failed);
            }
        }
    }
}

public sealed record JobProgressSnapshot(int ShardsDone, long ImagesOk, long ImagesFailed);
