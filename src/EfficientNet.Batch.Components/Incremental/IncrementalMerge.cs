using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// Merges an incremental job by following its plan line by line: a reused record is copied, an image sent to the
/// workers takes the next record of the shard results (shard after shard, checked by path), and changes.jsonl gets one
/// line per new, changed and removed image. Memory stays constant whatever the dataset size: the plan, the shard
/// results and the outputs are all streamed.
/// </summary>
public static class IncrementalMerge
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <param name="expectedLines">Lines the merge must write; anything else fails it before anything is published.</param>
    /// <param name="outcomes">The job's shard outcomes; a shard without one (a cancelled job's) leaves its images out.</param>
    public static async Task<IncrementalSummary> MergeAsync(
        JobRecord job,
        IncrementalPlanInfo info,
        ShardOutcomeTotals outcomes,
        ResolvedLocation output,
        MergeSink sink,
        long expectedLines,
        CancellationToken cancellationToken)
    {
        var changesFile = Path.Combine(Path.GetTempPath(), $"effnet-changes-{job.JobId:N}-{Guid.NewGuid():N}.jsonl");
        long classified = 0, top1Changed = 0;
        try
        {
            await using (var changes = new FileStream(changesFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                var ct = cancellationToken;
                await using var plan = await output.Store.OpenReadAsync(output.KeyFor(info.PlanKey), ct);
                using var planReader = new StreamReader(plan, Encoding.UTF8, false, 1 << 16);
                await using var results = new ShardResultStream(job, outcomes, output);
                long position = 0;
                while (await planReader.ReadLineAsync(ct) is { } text)
                {
                    if (text.Length == 0)
                    {
                        continue;
                    }

                    var line = JsonSerializer.Deserialize(text, IncrementalJsonContext.Default.PlanLine)
                        ?? throw new InvalidDataException($"The plan of job {job.JobId} holds a null line.");
                    if (line.Reuse is { } reused)
                    {
                        await sink.AddAsync(reused, ct);
                    }
                    else if (line.Classify is { } path)
                    {
                        var shard = (int)(position++ / job.Spec.ShardSize);
                        if (await results.NextAsync(shard, path, ct) is not { } result)
                        {
                            continue;
                        }

                        await sink.AddAsync(result, ct);
                        classified++;
                        if (Change(line, result) is { } change)
                        {
                            top1Changed += change.Top1Changed == true ? 1 : 0;
                            await WriteAsync(changes, JsonSerializer.Serialize(change, IncrementalJsonContext.Default.ChangeRecord), ct);
                        }
                    }
                    else if (line.Removed is { } removed)
                    {
                        var change = new ChangeRecord(removed, "removed", Previous: line.Previous);
                        await WriteAsync(changes, JsonSerializer.Serialize(change, IncrementalJsonContext.Default.ChangeRecord), ct);
                    }
                }

                await results.FinishAsync(ct);
                if (sink.Statistics.Total != expectedLines)
                {
                    throw new MergeCountException(
                        $"The merge of job {job.JobId} wrote {sink.Statistics.Total} lines, but {expectedLines} were planned; nothing was published.");
                }
            }

            await output.Store.CommitAsync(
                output.KeyFor(JobOutputLayout.ChangesName),
                async (destination, ct) =>
                {
                    await using var source = new FileStream(changesFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
                    await source.CopyToAsync(destination, ct);
                },
                cancellationToken);
        }
        finally
        {
            File.Delete(changesFile);
        }

        return new IncrementalSummary(classified, info.Reused, info.New, info.Changed, info.Removed, top1Changed, info.Baseline, info.FullReason);
    }

    /// <summary>The changes.jsonl line of a classified image, or null when nothing changed that a reader cares about.</summary>
    private static ChangeRecord? Change(PlanLine line, PredictionRecord result)
    {
        var current = result.Top1;
        bool? moved = line.Previous is { } before && current is not null ? before.Index != current.Index : null;
        return line.Change switch
        {
            "new" => new ChangeRecord(result.Path, "new", Current: current, Error: result.Error),
            "changed" => new ChangeRecord(result.Path, "changed", moved == true ? true : null, line.Previous, current, result.Error),
            _ when moved == true => new ChangeRecord(result.Path, "rescored", true, line.Previous, current),
            _ => null,
        };
    }

    private static async Task WriteAsync(Stream destination, string line, CancellationToken cancellationToken)
    {
        await destination.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
        await destination.WriteAsync(NewLine, cancellationToken);
    }

    /// <summary>The records of the job's shard results, read shard after shard in plan order. Each shard must hold
    /// exactly the lines its outcome reports, in the plan's order, or the merge fails and publishes nothing.</summary>
    private sealed class ShardResultStream(JobRecord job, ShardOutcomeTotals outcomes, ResolvedLocation output) : IAsyncDisposable
    {
        private int _shard = -1;
        private long _lines;
        private StreamReader? _reader;

        public async Task<PredictionRecord?> NextAsync(int shard, string path, CancellationToken cancellationToken)
        {
            if (shard != _shard)
            {
                await CloseAsync(cancellationToken);
                _shard = shard;
                if (!outcomes.Has(shard))
                {
                    return null;
                }

                var key = output.KeyFor(outcomes.SucceededAt(shard) ? JobOutputLayout.ResultKey(job.JobId, shard) : JobOutputLayout.FailedResultKey(job.JobId, shard));
                _reader = new StreamReader(await output.Store.OpenReadAsync(key, cancellationToken), Encoding.UTF8, false, 1 << 16);
            }

            if (_reader is null)
            {
                return null;
            }

            string? text;
            do
            {
                text = await _reader.ReadLineAsync(cancellationToken);
            }
            while (text is { Length: 0 });

            var record = text is null ? null : PredictionWriter.FromJsonLine(text);
            if (text is null || record is null || record.Path != path)
            {
                throw new MergeCountException(
                    $"Shard {shard} of job {job.JobId} does not hold the planned image '{path}' at line {_lines + 1} (found '{record?.Path}').");
            }

            _lines++;
            return record;
        }

        public Task FinishAsync(CancellationToken cancellationToken) => CloseAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            _reader?.Dispose();
            _reader = null;
            await Task.CompletedTask;
        }

        private async Task CloseAsync(CancellationToken cancellationToken)
        {
            if (_reader is null)
            {
                return;
            }

            while (await _reader.ReadLineAsync(cancellationToken) is { } extra)
            {
                if (extra.Length > 0)
                {
                    _lines++;
                }
            }

            if (_lines != outcomes.LinesAt(_shard))
            {
                throw new MergeCountException(
                    $"Shard {_shard} of job {job.JobId} has {_lines} result lines but its outcome reports {outcomes.LinesAt(_shard)} images.");
            }

            _reader.Dispose();
            _reader = null;
            _lines = 0;
        }
    }
}
