using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Concatenates the shard results of a job, in shard order, into one predictions.jsonl and computes the statistics
/// of summary.json on the way. Both outputs are committed atomically.
/// </summary>
public sealed class ResultMerger(IStorageResolver storage)
{
    public const string PredictionsName = "predictions.jsonl";
    public const string SummaryName = "summary.json";

    public ResolvedLocation ResolveOutput(string location) => storage.Resolve(location);

    public static string PredictionsLocation(JobRecord job) => StorageKeys.JoinLocation(job.Output, PredictionsName);

    public static string SummaryLocation(JobRecord job) => StorageKeys.JoinLocation(job.Output, SummaryName);

    public async Task<MergeStatistics> MergeAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        var statistics = new MergeStatistics();
        await output.Store.CommitAsync(
            output.KeyFor(PredictionsName),
            async (destination, ct) =>
            {
                for (var shard = 0; shard < job.ShardCount; shard++)
                {
                    var key = output.KeyFor(ShardPlanner.ResultKey(shard));
                    await using var source = await output.Store.OpenReadAsync(key, ct);
                    await CopyLinesAsync(source, destination, statistics, ct);
                }
            },
            cancellationToken);
        return statistics;
    }

    public async Task WriteSummaryAsync(JobRecord job, JobSummary summary, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        await output.Store.CommitAsync(
            output.KeyFor(SummaryName),
            (destination, ct) => JsonSerializer.SerializeAsync(destination, summary, IndentedJobJsonContext.Default.JobSummary, ct),
            cancellationToken);
    }

    private static async Task CopyLinesAsync(Stream source, Stream destination, MergeStatistics statistics, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var record = JsonSerializer.Deserialize(line, JobJsonContext.Default.PredictionRecord)
                ?? throw new InvalidDataException("A shard result holds a null line.");
            statistics.Add(record);
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            await destination.WriteAsync(bytes, cancellationToken);
        }
    }
}

/// <summary>Counts gathered while merging.</summary>
public sealed class MergeStatistics
{
    private readonly Dictionary<int, long> _top1 = [];
    private readonly Dictionary<string, long> _errorsByKind = new(StringComparer.Ordinal);

    public long Total { get; private set; }

    public long Ok { get; private set; }

    public long Failed { get; private set; }

    public long Labelled { get; private set; }

    public long Top1Correct { get; private set; }

    public long TopKCorrect { get; private set; }

    public IReadOnlyDictionary<string, long> ErrorsByKind => _errorsByKind;

    public IReadOnlyDictionary<int, long> Top1 => _top1;

    public void Add(PredictionRecord record)
    {
        Total++;
        if (record.IsError || record.Top is not { Count: > 0 } top)
        {
            Failed++;
            var kind = record.ErrorKind ?? "unknown";
            _errorsByKind[kind] = _errorsByKind.GetValueOrDefault(kind) + 1;
            return;
        }

        Ok++;
        _top1[top[0].Index] = _top1.GetValueOrDefault(top[0].Index) + 1;
        if (record.Label is { } label)
        {
            Labelled++;
            if (top[0].Index == label)
            {
                Top1Correct++;
            }

            if (top.Any(c => c.Index == label))
            {
                TopKCorrect++;
            }
        }
    }
}
