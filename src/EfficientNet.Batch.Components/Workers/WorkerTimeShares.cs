namespace EfficientNet.Batch.Components.Workers;

/// <summary>
/// Splits a worker's busy time among the shards it classifies at once (<see cref="WorkerOptions.ConcurrentShards"/>):
/// while n shards run, each accounts for 1/n of every second. The shares of a worker's shards add up to the time it was
/// busy, so the device seconds (and the cost) summary.json reports count overlapped shards once, not n times.
/// </summary>
public sealed class WorkerTimeShares(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private readonly List<Share> _running = [];
    private long _last;

    /// <summary>Starts accounting a shard's time, until the share is disposed.</summary>
    public Share Begin()
    {
        lock (_gate)
        {
            Advance();
            var share = new Share(this);
            _running.Add(share);
            return share;
        }
    }

    private void Advance()
    {
        var now = clock.GetTimestamp();
        if (_running.Count > 0)
        {
            var each = clock.GetElapsedTime(_last, now).TotalSeconds / _running.Count;
            foreach (var share in _running)
            {
                share.Add(each);
            }
        }

        _last = now;
    }

    /// <summary>One shard's share of the worker's time.</summary>
    public sealed class Share(WorkerTimeShares owner) : IDisposable
    {
        private double _seconds;
        private bool _ended;

        /// <summary>Seconds accounted to the shard so far (all of them once it ended).</summary>
        public double Seconds
        {
            get
            {
                lock (owner._gate)
                {
                    if (!_ended)
                    {
                        owner.Advance();
                    }

                    return _seconds;
                }
            }
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                if (_ended)
                {
                    return;
                }

                owner.Advance();
                owner._running.Remove(this);
                _ended = true;
            }
        }

        internal void Add(double seconds) => _seconds += seconds;
    }
}
