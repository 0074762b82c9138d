using System.Buffers.Binary;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// A job's shard outcomes folded into one aggregate: nine bytes per shard (whether it has an outcome, whether it
/// succeeded, its classified and failed images) and per-job sums, never an object per shard. The merge follows it shard
/// by shard and summary.json is built from it, so the coordinator's memory does not grow with the number of shards. What
/// it keeps beyond the per-shard table is bounded by other things: failed shards (failures), workers, execution
/// providers, precisions and the distinct model identities the workers reported. It is stored per job
/// (<see cref="ToSnapshot"/>, <see cref="JobStateStore.ReadShardOutcomeTotalsAsync"/>), so status and the merge read
/// one object and the outcomes folded since, not one object per shard.
/// </summary>
public sealed class ShardOutcomeTotals
{
    private const byte None = 0;
    private const byte Ok = 1;
    private const byte Failed = 2;

    private readonly byte[] _states;
    private readonly int[] _ok;
    private readonly int[] _failed;
    private readonly List<FailedShard> _failedShards = [];
    private readonly SortedDictionary<string, int> _shardsByWorker = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, double> _deviceSeconds = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _executionProviders = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _precisions = new(StringComparer.Ordinal);
    private readonly List<(int Shard, ModelIdentity Identity)> _identities = [];
    private readonly JobSpec _spec;

    public ShardOutcomeTotals(JobSpec spec, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shardCount);
        _spec = spec;
        _states = new byte[shardCount];
        _ok = new int[shardCount];
        _failed = new int[shardCount];
    }

    public int ShardCount => _states.Length;

    /// <summary>Shards (of the plan's) with an outcome.</summary>
    public int Count { get; private set; }

    public int Succeeded { get; private set; }

    public long ImagesOk { get; private set; }

    public long ImagesFailed { get; private set; }

    public bool AllSucceeded => Succeeded == Count;

    /// <summary>Failed shards in shard order, with the reason each failed.</summary>
    public IReadOnlyList<FailedShard> FailedShards => [.. _failedShards.OrderBy(f => f.Index)];

    public IReadOnlyDictionary<string, int> ShardsByWorker => _shardsByWorker;

    /// <summary>Seconds the succeeded shards ran, per device kind: each shard's share of its worker's time (shards a worker
    /// ran at once share their overlap), so the sum is the time the workers were busy.</summary>
    public IReadOnlyDictionary<string, double> DeviceSeconds =>
        new SortedDictionary<string, double>(_deviceSeconds.ToDictionary(p => p.Key, p => Math.Round(p.Value, 3)), StringComparer.Ordinal);

    public IReadOnlyList<string> ExecutionProviders => [.. _executionProviders];

    public IReadOnlyList<string> Precisions => [.. _precisions];

    /// <summary>The first weights description a worker reported.</summary>
    public string? Weights { get; private set; }

    /// <summary>The first preprocessing a worker reported.</summary>
    public Preprocessing? Preprocessing { get; private set; }

    /// <summary>A worker reported stored weights whose provenance says they were generated.</summary>
    public bool Untrained { get; private set; }

    /// <summary>The longest a succeeded shard ran (its share of its worker's time), in seconds.</summary>
    public double LongestShardSeconds { get; private set; }

    /// <summary>Each distinct model identity the succeeded shards were classified under, with the first shard that
    /// reported it.</summary>
    public IReadOnlyList<(int Shard, ModelIdentity Identity)> Identities => _identities;

    /// <summary>Folds every outcome of <paramref name="outcomes"/> in, one at a time.</summary>
    public static async Task<ShardOutcomeTotals> FoldAsync(JobSpec spec, int shardCount, IAsyncEnumerable<ShardOutcome> outcomes)
    {
        var totals = new ShardOutcomeTotals(spec, shardCount);
        await foreach (var outcome in outcomes)
        {
            totals.Add(outcome);
        }

        return totals;
    }

    /// <summary>Folds one outcome in, as the store would keep it: an outcome for a shard outside the plan is ignored,
    /// a success replaces a failure (a late success overwrites the failure's object), and any other second outcome for a
    /// shard is ignored (a success is final, and a failure is written only where there was none).</summary>
    public void Add(ShardOutcome outcome)
    {
        var index = outcome.ShardIndex;
        if (index < 0 || index >= _states.Length || _states[index] == Ok || (_states[index] == Failed && !outcome.Succeeded))
        {
            return;
        }

        if (_states[index] == Failed)
        {
            // Failure outcomes name no worker, provider or precision: only the counts are undone.
            ImagesOk -= _ok[index];
            ImagesFailed -= _failed[index];
            _failedShards.RemoveAll(f => f.Index == index);
            Count--;
        }

        _states[index] = outcome.Succeeded ? Ok : Failed;
        _ok[index] = outcome.ImagesOk;
        _failed[index] = outcome.ImagesFailed;
        Count++;
        ImagesOk += outcome.ImagesOk;
        ImagesFailed += outcome.ImagesFailed;
        Weights ??= outcome.Weights;
        Preprocessing ??= outcome.Preprocessing;
        Untrained |= outcome.Untrained;
        if (outcome.ExecutionProvider is { } provider)
        {
            _executionProviders.Add(provider);
        }

        if (outcome.Precision is { } precision)
        {
            _precisions.Add(precision);
        }

        if (outcome.Worker is { } worker)
        {
            _shardsByWorker[worker] = _shardsByWorker.GetValueOrDefault(worker) + 1;
        }

        if (!outcome.Succeeded)
        {
            _failedShards.Add(new FailedShard(index, outcome.Reason));
            return;
        }

        Succeeded++;
        LongestShardSeconds = Math.Max(LongestShardSeconds, outcome.Seconds);
        var kind = DeviceKinds.Of(outcome.ExecutionProvider);
        _deviceSeconds[kind] = _deviceSeconds.GetValueOrDefault(kind) + outcome.Seconds;
        if (ModelIdentityResolver.Reported(_spec, outcome.WeightsSha256, outcome.Preprocessing) is { } identity
            && !_identities.Exists(i => i.Identity.DifferenceFrom(identity) is null))
        {
            _identities.Add((index, identity));
        }
    }

    /// <summary>The shard has an outcome (false for a shard outside the plan).</summary>
    public bool Has(int shardIndex) => (uint)shardIndex < (uint)_states.Length && _states[shardIndex] != None;

    /// <summary>The shard's worker committed its results (false for a failed shard's error records).</summary>
    public bool SucceededAt(int shardIndex) => _states[shardIndex] == Ok;

    /// <summary>Result lines the shard's outcome reports (classified plus failed images).</summary>
    public int LinesAt(int shardIndex) => _ok[shardIndex] + _failed[shardIndex];

    /// <summary>Images the shard's outcome reports as classified.</summary>
    public int ImagesOkAt(int shardIndex) => _ok[shardIndex];

    /// <summary>Images the shard's outcome reports as error records.</summary>
    public int ImagesFailedAt(int shardIndex) => _failed[shardIndex];

    /// <summary>Shards whose outcome may still change: those without one, and failed ones (a late success replaces a
    /// failure). A succeeded shard is final.</summary>
    public int Pending => _states.Length - Succeeded;

    /// <summary>The shard is one of <see cref="Pending"/> (false for a shard outside the plan).</summary>
    public bool IsPending(int shardIndex) => (uint)shardIndex < (uint)_states.Length && _states[shardIndex] != Ok;

    /// <summary>The shards of <see cref="Pending"/>, in shard order.</summary>
    public IEnumerable<int> PendingShards() => Enumerable.Range(0, _states.Length).Where(IsPending);

    /// <summary>The aggregate as stored: the per-shard table packed into three byte strings, and the sums.</summary>
    public ShardOutcomeTotalsSnapshot ToSnapshot() => new(
        _states.Length,
        (byte[])_states.Clone(),
        Pack(_ok),
        Pack(_failed),
        FailedShards,
        new SortedDictionary<string, int>(_shardsByWorker, StringComparer.Ordinal),
        new SortedDictionary<string, double>(_deviceSeconds, StringComparer.Ordinal),
        ExecutionProviders,
        Precisions,
        Weights,
        Preprocessing,
        Untrained,
        LongestShardSeconds,
        [.. _identities.Select(i => new ReportedIdentity(i.Shard, i.Identity))]);

    /// <summary>The aggregate a <see cref="ToSnapshot"/> stored.</summary>
    /// <exception cref="InvalidDataException">The snapshot is not whole (its tables do not match its shard count).</exception>
    public static ShardOutcomeTotals FromSnapshot(JobSpec spec, ShardOutcomeTotalsSnapshot snapshot)
    {
        var count = snapshot.ShardCount;
        // Read from storage: a property left out arrives as null whatever the declared type says.
        if (count < 0 || snapshot.States?.Length != count || snapshot.ImagesOk?.Length != count * sizeof(int) || snapshot.ImagesFailed?.Length != count * sizeof(int)
            || snapshot.FailedShards is null || snapshot.ShardsByWorker is null || snapshot.DeviceSeconds is null
            || snapshot.ExecutionProviders is null || snapshot.Precisions is null || snapshot.Identities is null)
        {
            throw new InvalidDataException($"A stored outcome aggregate is not whole (its tables do not match its {count} shards, or a part is missing).");
        }

        var totals = new ShardOutcomeTotals(spec, count);
        snapshot.States.CopyTo(totals._states, 0);
        Unpack(snapshot.ImagesOk, totals._ok);
        Unpack(snapshot.ImagesFailed, totals._failed);
        for (var index = 0; index < count; index++)
        {
            var state = totals._states[index];
            if (state is not (None or Ok or Failed))
            {
                throw new InvalidDataException($"A stored outcome aggregate has an unknown state {state} for shard {index}.");
            }

            if (state == None)
            {
                continue;
            }

            totals.Count++;
            totals.Succeeded += state == Ok ? 1 : 0;
            totals.ImagesOk += totals._ok[index];
            totals.ImagesFailed += totals._failed[index];
        }

        totals._failedShards.AddRange(snapshot.FailedShards);
        foreach (var (worker, shards) in snapshot.ShardsByWorker)
        {
            totals._shardsByWorker[worker] = shards;
        }

        foreach (var (kind, seconds) in snapshot.DeviceSeconds)
        {
            totals._deviceSeconds[kind] = seconds;
        }

        totals._executionProviders.UnionWith(snapshot.ExecutionProviders);
        totals._precisions.UnionWith(snapshot.Precisions);
        totals.Weights = snapshot.Weights;
        totals.Preprocessing = snapshot.Preprocessing;
        totals.Untrained = snapshot.Untrained;
        totals.LongestShardSeconds = snapshot.LongestShardSeconds;
        totals._identities.AddRange(snapshot.Identities.Select(i => (i.Shard, i.Identity)));
        return totals;
    }

    private static byte[] Pack(int[] values)
    {
        var bytes = new byte[values.Length * sizeof(int)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * sizeof(int)), values[i]);
        }

        return bytes;
    }

    private static void Unpack(byte[] bytes, int[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * sizeof(int)));
        }
    }
}

/// <summary>A job's <see cref="ShardOutcomeTotals"/> as stored (<c>totals/{id}.json</c> in the state store).</summary>
/// <param name="States">One byte per shard: 0 no outcome, 1 succeeded, 2 failed.</param>
/// <param name="ImagesOk">Classified images per shard, 32-bit little-endian.</param>
/// <param name="ImagesFailed">Error records per shard, 32-bit little-endian.</param>
public sealed record ShardOutcomeTotalsSnapshot(
    int ShardCount,
    byte[] States,
    byte[] ImagesOk,
    byte[] ImagesFailed,
    IReadOnlyList<FailedShard> FailedShards,
    IReadOnlyDictionary<string, int> ShardsByWorker,
    IReadOnlyDictionary<string, double> DeviceSeconds,
    IReadOnlyList<string> ExecutionProviders,
    IReadOnlyList<string> Precisions,
    string? Weights,
    Preprocessing? Preprocessing,
    bool Untrained,
    double LongestShardSeconds,
    IReadOnlyList<ReportedIdentity> Identities);

/// <summary>A model identity the workers reported, with the first shard that reported it.</summary>
public sealed record ReportedIdentity(int Shard, ModelIdentity Identity);
