using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// A job's shard outcomes folded into one aggregate as they stream from the state store: five bytes per shard (whether
/// it has an outcome, whether it succeeded, its line count) and per-job sums, never an object per shard. The merge
/// follows it shard by shard and summary.json is built from it, so the coordinator's memory does not grow with the
/// number of shards. What it keeps beyond the per-shard table is bounded by other things: failed shards (failures),
/// workers, execution providers, precisions and the distinct model identities the workers reported.
/// </summary>
public sealed class ShardOutcomeTotals
{
    private const byte None = 0;
    private const byte Ok = 1;
    private const byte Failed = 2;

    private readonly byte[] _states;
    private readonly int[] _lines;
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
        _lines = new int[shardCount];
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

    /// <summary>Folds one outcome in. An outcome for a shard outside the plan is ignored, and so is a second outcome
    /// for a shard (the store keeps one per shard).</summary>
    public void Add(ShardOutcome outcome)
    {
        var index = outcome.ShardIndex;
        if (index < 0 || index >= _states.Length || _states[index] != None)
        {
            return;
        }

        _states[index] = outcome.Succeeded ? Ok : Failed;
        _lines[index] = outcome.ImagesOk + outcome.ImagesFailed;
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
    public int LinesAt(int shardIndex) => _lines[shardIndex];
}
