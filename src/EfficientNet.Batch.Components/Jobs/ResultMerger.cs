using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Concatenates the shard results of a job, in shard order, into one predictions.jsonl and computes the statistics
/// of summary.json on the way. Both outputs are committed atomically. The merge counts what it writes: a total other
/// than the planned one fails it, and nothing is published.
/// </summary>
public sealed class ResultMerger(IStorageResolver storage)
{
    public ResolvedLocation ResolveOutput(string location) => storage.Resolve(location);

    /// <summary>Merges the results of <paramref name="outcomes"/> (one per shard, in shard order): a succeeded shard's
    /// worker result, or a failed shard's error records.</summary>
    /// <param name="expectedLines">Lines the merge must write; anything else is a <see cref="MergeCountException"/>.</param>
    public async Task<MergeStatistics> MergeAsync(JobRecord job, IReadOnlyList<ShardOutcome> outcomes, long expectedLines, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        var statistics = new MergeStatistics();
        if (job.Incremental is { } incremental)
        {
            statistics.Incremental = await IncrementalMerge.MergeAsync(job, incremental, outcomes, output, statistics, expectedLines, cancellationToken);
            return statistics;
        }

        await output.Store.CommitAsync(
            output.KeyFor(JobOutputLayout.PredictionsName),
            async (destination, ct) =>
            {
                foreach (var outcome in outcomes)
                {
                    var key = output.KeyFor(outcome.Succeeded
                        ? JobOutputLayout.ResultKey(job.JobId, outcome.ShardIndex)
                        : JobOutputLayout.FailedResultKey(job.JobId, outcome.ShardIndex));
                    var before = statistics.Total;
                    await using (var source = await output.Store.OpenReadAsync(key, ct))
                    {
                        await CopyLinesAsync(source, destination, statistics, ct);
                    }

                    var lines = statistics.Total - before;
                    if (lines != outcome.ImagesOk + outcome.ImagesFailed)
                    {
                        throw new MergeCountException(
                            $"Shard {outcome.ShardIndex} of job {job.JobId} has {lines} result lines but its outcome reports " +
                            $"{outcome.ImagesOk + outcome.ImagesFailed} images ({output.Describe(key)}).");
                    }
                }

                if (statistics.Total != expectedLines)
                {
                    throw new MergeCountException(
                        $"The merge of job {job.JobId} wrote {statistics.Total} lines, but {expectedLines} were planned; nothing was published.");
                }
            },
            cancellationToken);
        return statistics;
    }

    public async Task WriteSummaryAsync(JobRecord job, JobSummary summary, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        await output.Store.CommitAsync(
            output.KeyFor(JobOutputLayout.SummaryName),
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

/// <summary>The merge did not write the planned number of lines: the job fails rather than publish a wrong file.</summary>
public sealed class MergeCountException(string message) : Exception(message);

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

    /// <summary>An incremental job's counts (null for a job that classified everything it listed).</summary>
    public IncrementalSummary? Incremental { get; set; }

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
