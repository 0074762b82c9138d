using System.Collections.Concurrent;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>
/// A worker's view of cancelled jobs: the ids it heard of (<c>JobCancelled</c>), and a token per running shard that a
/// cancel of its job trips. Ids are kept for a day, far longer than a cancelled job's queued shards take to drain.
/// </summary>
public sealed class CancelledJobs(TimeProvider clock)
{
    private static readonly TimeSpan Memory = TimeSpan.FromDays(1);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _cancelled = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<CancellationTokenSource, byte>> _running = new();

    public bool IsCancelled(Guid jobId) => _cancelled.ContainsKey(jobId);

    /// <summary>Marks a job cancelled and stops its running shards.</summary>
    public void Cancel(Guid jobId)
    {
        var now = clock.GetUtcNow();
        _cancelled[jobId] = now;
        foreach (var (id, at) in _cancelled)
        {
            if (now - at > Memory)
            {
                _cancelled.TryRemove(id, out _);
            }
        }

        if (_running.TryGetValue(jobId, out var shards))
        {
            foreach (var source in shards.Keys)
            {
                source.Cancel();
            }
        }
    }

    /// <summary>A token for one shard of <paramref name="jobId"/>: cancelled with <paramref name="cancellationToken"/>
    /// or when the job is cancelled. Dispose it when the shard ends.</summary>
    public RunningShard Track(Guid jobId, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var shards = _running.GetOrAdd(jobId, _ => new());
        shards[source] = 0;
        if (IsCancelled(jobId))
        {
            source.Cancel();
        }

        return new RunningShard(this, jobId, source);
    }

    private void Untrack(Guid jobId, CancellationTokenSource source)
    {
        if (_running.TryGetValue(jobId, out var shards))
        {
            shards.TryRemove(source, out _);
            if (shards.IsEmpty)
            {
                _running.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<CancellationTokenSource, byte>>(jobId, shards));
            }
        }
    }

    public sealed class RunningShard(CancelledJobs owner, Guid jobId, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken Token => source.Token;

        /// <summary>The shard was stopped because its job was cancelled (not because the worker is stopping).</summary>
        public bool StoppedByCancel => source.IsCancellationRequested && owner.IsCancelled(jobId);

        public void Dispose()
        {
            owner.Untrack(jobId, source);
            source.Dispose();
        }
    }
}
