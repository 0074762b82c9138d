using System.CommandLine;
using System.CommandLine.Parsing;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Cli.Commands;

/// <param name="ShardSize">Null when not given: <c>run</c> uses <see cref="JobOptions.DefaultShardSize"/>, the
/// coordinator its <c>Coordinator:DefaultShardSize</c>.</param>
/// <param name="Outputs">Formats besides predictions.jsonl (<c>--format</c>, <c>--report</c>); null for none.</param>
/// <param name="Review">Review bounds (<c>--review-max-probability</c>, <c>--review-min-margin</c>); null for none.</param>
internal sealed record JobOptionValues(
    int? ShardSize, int TopK, bool RandomWeights, int Seed, JobPriority Priority, int? BatchSize, int? DecodeThreads,
    IReadOnlyList<string>? Outputs = null, ReviewSpec? Review = null);

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

    private readonly Option<string[]> _format = new("--format")
    {
        Description = $"Output files, comma-separated: {string.Join(", ", OutputFormats.All)} (predictions.jsonl is always written).",
        AllowMultipleArgumentsPerToken = true,
        CustomParser = r => [.. r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
    };

    private readonly Option<bool> _report = new("--report") { Description = "Also write report.html (same as --format report)." };
    private readonly Option<double?> _reviewMaxProbability = new("--review-max-probability")
    {
        Description = "Queue for review (review.jsonl + Label Studio export) every image whose top-1 probability is at most this.",
    };

    private readonly Option<double?> _reviewMinMargin = new("--review-min-margin")
    {
        Description = "Queue for review every image whose top-1 minus top-2 probability is below this.",
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
        command.Options.Add(_format);
        command.Options.Add(_report);
        command.Options.Add(_reviewMaxProbability);
        command.Options.Add(_reviewMinMargin);
        command.Validators.Add(result =>
        {
            foreach (var name in result.GetValue(_format) ?? [])
            {
                if (OutputRequestRules.FormatProblem(name) is { } problem)
                {
                    result.AddError($"--format: {problem}");
                }
            }

            // The same bounds the job and the host check, named as the user typed them (not 'topK' or 'BatchSize').
            InRange(result, _top, 1, JobSpecValidator.MaxTopK);
            InRange(result, _shardSize, ShardPlanner.MinShardSize, ShardPlanner.MaxShardSize);
            if (embedded)
            {
                InRange(result, _batchSize, 1, 1024);
                InRange(result, _decodeThreads, 1, 256);
            }

            foreach (var option in new[] { _reviewMaxProbability, _reviewMinMargin })
            {
                if (result.GetValue(option) is { } value && (value < 0 || value > 1 || !double.IsFinite(value)))
                {
                    result.AddError($"{option.Name} must be between 0 and 1, not {value}.");
                }
            }
        });
        if (embedded)
        {
            command.Options.Add(_batchSize);
            command.Options.Add(_decodeThreads);
        }
    }

    // Only a value the user typed: a validator sees 0, not the default, for an option left out.
    private static void InRange(CommandResult result, Option<int> option, int min, int max) =>
        InRange(result, option.Name, result.GetResult(option) is { Implicit: false } ? result.GetValue(option) : null, min, max);

    private static void InRange(CommandResult result, Option<int?> option, int min, int max) =>
        InRange(result, option.Name, result.GetValue(option), min, max);

    private static void InRange(CommandResult result, string name, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max))
        {
            result.AddError($"{name} must be between {min} and {max}, not {v}.");
        }
    }

    public JobOptionValues Read(ParseResult parse) => new(
        parse.GetValue(_shardSize),
        parse.GetValue(_top),
        parse.GetValue(_randomWeights),
        parse.GetValue(_seed),
        parse.GetValue(_priority),
        parse.GetValue(_batchSize),
        parse.GetValue(_decodeThreads),
        Outputs(parse),
        parse.GetValue(_reviewMaxProbability) is null && parse.GetValue(_reviewMinMargin) is null
            ? null
            : new ReviewSpec(parse.GetValue(_reviewMaxProbability), parse.GetValue(_reviewMinMargin)));

    private IReadOnlyList<string>? Outputs(ParseResult parse)
    {
        var names = (parse.GetValue(_format) ?? []).Select(n => n.ToLowerInvariant()).ToList();
        if (parse.GetValue(_report))
        {
            names.Add(OutputFormats.Report);
        }

        return names.Count == 0 ? null : [.. names.Distinct(StringComparer.Ordinal)];
    }
}
