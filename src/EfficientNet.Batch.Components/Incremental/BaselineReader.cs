using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>A previous run whose records an incremental job may reuse.</summary>
/// <param name="JobId">The run's job.</param>
/// <param name="Description">Named in summary.json, e.g. <c>job 3f… (file:///out)</c>.</param>
/// <param name="Identity">The model identity it ran under; null when it recorded none (then nothing is reused).</param>
/// <param name="At">When it was produced: a later source's record of a path replaces an earlier one's.</param>
public sealed record BaselineSource(Guid JobId, string Description, ModelIdentity? Identity, DateTimeOffset At, Func<CancellationToken, IAsyncEnumerable<PredictionRecord>> ReadRecords);

/// <summary>
/// Finds the previous runs of an incremental job: the job named by <see cref="JobRecord.BaselineJobId"/> (a schedule's
/// previous completed run), or what lies in <see cref="JobRecord.BaselineLocation"/> (<c>effnet run</c>'s output): the
/// merged run described by its summary.json, and the committed shard results of runs that were interrupted before
/// their merge. Reads listings, summaries and result files only, never an image.
/// </summary>
public sealed class BaselineReader(IStorageResolver storage, JobStateStore state)
{
    public async Task<IReadOnlyList<BaselineSource>> FindAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (job.BaselineJobId is { } previousId)
        {
            var previous = await state.GetAsync(previousId, cancellationToken);
            if (previous is null || previous.Status is not (JobStatus.Completed or JobStatus.CompletedWithErrors) || previous.OutputTakenOverBy is { } other && other != job.JobId)
            {
                return [];
            }

            var source = await FromSummaryAsync(previous.Output, previousId, cancellationToken);
            return source is null ? [] : [source];
        }

        if (job.BaselineLocation is not { } location)
        {
            return [];
        }

        var sources = new List<BaselineSource>();
        var merged = await FromSummaryAsync(location, expectedJobId: null, cancellationToken);
        if (merged is not null)
        {
            sources.Add(merged);
        }

        await foreach (var interrupted in FromShardFoldersAsync(location, job.JobId, merged?.JobId, cancellationToken))
        {
            sources.Add(interrupted);
        }

        return [.. sources.OrderBy(s => s.At)];
    }

    /// <summary>The merged run at <paramref name="location"/>, if its summary.json names a run that was not failed
    /// (and is <paramref name="expectedJobId"/> when given: an output taken over by another job is not that run's).</summary>
    private async Task<BaselineSource?> FromSummaryAsync(string location, Guid? expectedJobId, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(location);
        JobSummary? summary;
        try
        {
            await using var stream = await output.Store.OpenReadAsync(output.KeyFor(JobOutputLayout.SummaryName), cancellationToken);
            summary = await JsonSerializer.DeserializeAsync(stream, JobJsonContext.Default.JobSummary, cancellationToken);
        }
        catch (Exception e) when (e is BlobNotFoundException or JsonException or FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (summary is null || summary.Status == JobStatus.Failed || expectedJobId is { } id && summary.JobId != id)
        {
            return null;
        }

        var predictions = output.KeyFor(JobOutputLayout.PredictionsName);
        return new BaselineSource(
            summary.JobId,
            $"job {summary.JobId} ({location})",
            summary.ModelIdentity,
            summary.CompletedAt,
            ct => ReadLinesAsync(output.Store, [predictions], ct));
    }

    /// <summary>Runs interrupted before their merge: every <c>shards/{job}/</c> folder with a planned identity, other
    /// than the merged run's and this job's own, offering its committed shard results.</summary>
    private async IAsyncEnumerable<BaselineSource> FromShardFoldersAsync(
        string location, Guid currentJobId, Guid? mergedJobId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var output = storage.Resolve(location);
        var folders = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var shardsPrefix = output.KeyFor(JobOutputLayout.ShardsRoot) + "/";
        await foreach (var entry in output.Store.ListAllAsync(shardsPrefix, 5000, cancellationToken))
        {
            var relative = entry.Key[shardsPrefix.Length..];
            var slash = relative.IndexOf('/');
            if (slash <= 0)
            {
                continue;
            }

            var folder = relative[..slash];
            if (!folders.TryGetValue(folder, out var keys))
            {
                folders[folder] = keys = [];
            }

            keys.Add(entry.Key);
        }

        foreach (var (folder, keys) in folders)
        {
            if (!Guid.TryParseExact(folder, "N", out var jobId) || jobId == currentJobId || jobId == mergedJobId)
            {
                continue;
            }

            PlannedRun? planned;
            try
            {
                await using var stream = await output.Store.OpenReadAsync(output.KeyFor(JobOutputLayout.PlannedRunKey(jobId)), cancellationToken);
                planned = await JsonSerializer.DeserializeAsync(stream, IncrementalJsonContext.Default.PlannedRun, cancellationToken);
            }
            catch (Exception e) when (e is BlobNotFoundException or JsonException)
            {
                continue;
            }

            // Committed worker results only: a coordinator-written failure record is no classification to keep.
            var results = keys
                .Where(k => k.EndsWith(".jsonl", StringComparison.Ordinal) && !k.EndsWith(".failed.jsonl", StringComparison.Ordinal)
                    && Path.GetFileName(k).StartsWith("shard-", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .ToList();
            if (planned is not null && results.Count > 0)
            {
                yield return new BaselineSource(
                    jobId,
                    $"the {results.Count} committed shards of interrupted job {jobId} ({location})",
                    planned.Identity,
                    planned.PlannedAt,
                    ct => ReadLinesAsync(output.Store, results, ct));
            }
        }
    }

    private static async IAsyncEnumerable<PredictionRecord> ReadLinesAsync(IBlobStore store, IReadOnlyList<string> keys, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            await using var stream = await store.OpenReadAsync(key, cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length > 0 && PredictionWriter.FromJsonLine(line) is { } record)
                {
                    yield return record;
                }
            }
        }
    }
}
