using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Merges the shard results of a job, in shard order, into the job's output files (predictions.jsonl and every other
/// format it asked for, see <see cref="JobOutputSet"/>) and computes the statistics of summary.json on the way. The
/// merge counts what it writes: a total other than the planned one fails it, and nothing is published. Publishing
/// commits each file atomically, summary.json last.
/// </summary>
public sealed class ResultMerger(IStorageResolver storage, IEnumerable<IOutputFormat> formats)
{
    public ResolvedLocation ResolveOutput(string location) => storage.Resolve(location);

    /// <summary>Merges the results of the shards that have an outcome in <paramref name="outcomes"/>, in shard order: a
    /// succeeded shard's worker result, or a failed shard's error records. The files are spooled, not yet published.</summary>
    /// <param name="expectedLines">Lines the merge must write; anything else is a <see cref="MergeCountException"/>.</param>
    /// <param name="classNames">The model's output names (ImageNet's for a zoo model, a custom model's own); when null,
    /// ImageNet's for a zoo id and none otherwise (the records still name their classes).</param>
    public async Task<MergedJob> MergeAsync(
        JobRecord job, ShardOutcomeTotals outcomes, long expectedLines, CancellationToken cancellationToken, IReadOnlyList<string>? classNames = null)
    {
        var output = storage.Resolve(job.Output);
        classNames ??= ZooClassNames(job.Spec);
        var files = JobOutputSet.Open(job, formats, classNames);
        try
        {
            var sink = new MergeSink(new MergeStatistics(job.Spec.Review, classNames), files);
            if (job.Incremental is { } incremental)
            {
                sink.Statistics.Incremental = await IncrementalMerge.MergeAsync(job, incremental, outcomes, output, sink, expectedLines, cancellationToken);
                return new MergedJob(sink.Statistics, files);
            }

            for (var shard = 0; shard < outcomes.ShardCount; shard++)
            {
                if (!outcomes.Has(shard))
                {
                    // A cancelled job's shard that never ran.
                    continue;
                }

                var key = output.KeyFor(outcomes.SucceededAt(shard)
                    ? JobOutputLayout.ResultKey(job.JobId, shard)
                    : JobOutputLayout.FailedResultKey(job.JobId, shard));
                var before = sink.Statistics.Total;
                await using (var source = await output.Store.OpenReadAsync(key, cancellationToken))
                {
                    await CopyRecordsAsync(source, sink, cancellationToken);
                }

                var lines = sink.Statistics.Total - before;
                if (lines != outcomes.LinesAt(shard))
                {
                    throw new MergeCountException(
                        $"Shard {shard} of job {job.JobId} has {lines} result lines but its outcome reports " +
                        $"{outcomes.LinesAt(shard)} images ({output.Describe(key)}).");
                }
            }

            if (sink.Statistics.Total != expectedLines)
            {
                throw new MergeCountException(
                    $"The merge of job {job.JobId} wrote {sink.Statistics.Total} lines, but {expectedLines} were planned; nothing was published.");
            }

            return new MergedJob(sink.Statistics, files);
        }
        catch
        {
            await files.DisposeAsync();
            throw;
        }
    }

    /// <summary>Commits the merged files under the job's output, then summary.json (whose presence says they are all there).</summary>
    public async Task PublishAsync(JobRecord job, MergedJob merged, JobSummary summary, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        await merged.Files.PublishAsync(output, summary, cancellationToken);
        await WriteSummaryAsync(job, summary, cancellationToken);
    }

    public async Task WriteSummaryAsync(JobRecord job, JobSummary summary, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        await output.Store.CommitAsync(
            output.KeyFor(JobOutputLayout.SummaryName),
            (destination, ct) => JsonSerializer.SerializeAsync(destination, summary, IndentedJobJsonContext.Default.JobSummary, ct),
            cancellationToken);
    }

    private static IReadOnlyList<string> ZooClassNames(JobSpec spec) =>
        EfficientNet.Batch.Models.Catalogue.ModelCatalogue.TryGet(spec.Model, out _) ? EfficientNet.Batch.Models.ImageNetClasses.Names : [];

    private static async Task CopyRecordsAsync(Stream source, MergeSink sink, CancellationToken cancellationToken)
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
            await sink.AddAsync(record, cancellationToken);
        }
    }
}

/// <summary>A merged job: its statistics and its spooled output files (disposing deletes the spool).</summary>
public sealed class MergedJob(MergeStatistics statistics, JobOutputSet files) : IAsyncDisposable
{
    public MergeStatistics Statistics { get; } = statistics;

    public JobOutputSet Files { get; } = files;

    public ValueTask DisposeAsync() => Files.DisposeAsync();
}

/// <summary>Where the merge puts each record, in dataset order: the statistics and every output file.</summary>
public sealed class MergeSink(MergeStatistics statistics, JobOutputSet files)
{
    public MergeStatistics Statistics { get; } = statistics;

    public async ValueTask AddAsync(PredictionRecord record, CancellationToken cancellationToken)
    {
        Statistics.Add(record);
        await files.WriteAsync(record, cancellationToken);
    }
}

/// <summary>The merge did not write the planned number of lines: the job fails rather than publish a wrong file.</summary>
public sealed class MergeCountException(string message) : Exception(message);

/// <summary>Counts gathered while merging, and the evaluation of the records that carry labels.</summary>
/// <param name="review">The job's review bounds (counts <see cref="Review"/>).</param>
/// <param name="classNames">The model's class names, for the evaluation of classes no record predicted.</param>
public sealed class MergeStatistics(ReviewSpec? review = null, IReadOnlyList<string>? classNames = null)
{
    private readonly Evaluator _evaluator = new(classNames ?? []);
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

    /// <summary>Records the review queue holds (when the job has review bounds).</summary>
    public long Review { get; private set; }

    /// <summary>Top-1/top-5, per-class metrics, confused pairs and calibration; null when no record had a label.</summary>
    public EvaluationResult? Evaluation => Labelled + LabelledErrors > 0 ? _evaluator.Result() : null;

    /// <summary>Records with a label that could not be classified.</summary>
    public long LabelledErrors { get; private set; }

    public void Add(PredictionRecord record)
    {
        Total++;
        if (review is not null && ReviewSelector.Reasons(record, review).Count > 0)
        {
            Review++;
        }

        if (record.Label is not null)
        {
            _evaluator.Add(record);
            LabelledErrors += record.IsError ? 1 : 0;
        }

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
