using System.CommandLine;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Cli.Commands;

/// <param name="ShardSize">Null when not given: <c>run</c> uses <see cref="JobOptions.DefaultShardSize"/>, the
/// coordinator its <c>Coordinator:DefaultShardSize</c>.</param>
internal sealed record JobOptionValues(int? ShardSize, int TopK, bool RandomWeights, int Seed, JobPriority Priority, int? BatchSize, int? DecodeThreads);

/// <summary>Options shared by <c>run</c> and <c>submit</c>.</summary>
internal sealed class JobOptions
{
    public const int DefaultShardSize = 256;

    private readonly Option<int?> _shardSize = new("--shard-size") { Description = $"Images per shard message (default {DefaultShardSize}; submit: the coordinator's default)." };
    private readonly Option<int> _top = new("--top", "-k") { Description = "Classes kept per image.", DefaultValueFactory = _ => 5 };
    private readonly Option<bool> _randomWeights = new("--random-weights") { Description = "Use deterministic UNTRAINED weights (smoke tests, benchmarks)." };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of --random-weights.", DefaultValueFactory = _ => 0 };
    private readonly Option<JobPriority> _priority = new("--priority")
    {
        Description = "low, normal or high: a high-priority job's shards are taken before queued lower-priority ones.",
        DefaultValueFactory = _ => JobPriority.Normal,
    };

    private readonly Option<int?> _batchSize = new("--batch-size") { Description = "Images per inference batch (embedded run)." };
    private readonly Option<int?> _decodeThreads = new("--decode-threads") { Description = "Parallel image decoders (embedded run; default: one per core)." };

    public void AddTo(Command command, bool embedded = true)
    {
        command.Options.Add(_shardSize);
        command.Options.Add(_top);
        command.Options.Add(_randomWeights);
        command.Options.Add(_seed);
        command.Options.Add(_priority);
        if (embedded)
        {
            command.Options.Add(_batchSize);
            command.Options.Add(_decodeThreads);
        }
    }

    public JobOptionValues Read(ParseResult parse) => new(
        parse.GetValue(_shardSize),
        parse.GetValue(_top),
        parse.GetValue(_randomWeights),
        parse.GetValue(_seed),
        parse.GetValue(_priority),
        parse.GetValue(_batchSize),
        parse.GetValue(_decodeThreads));
}
