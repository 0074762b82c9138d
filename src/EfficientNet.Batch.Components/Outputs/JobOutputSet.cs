using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>
/// The files one merge writes: a writer per format the job asked for (JSONL always), plus the review queue and its
/// Label Studio export when the job has review bounds. Each writes into a local spool file while the merge streams the
/// records; nothing reaches the job's output until <see cref="PublishAsync"/>, so a merge that fails its counts
/// publishes nothing. Disposing deletes the spool files.
/// </summary>
public sealed class JobOutputSet : IAsyncDisposable
{
    private readonly List<Entry> _entries;

    private JobOutputSet(List<Entry> entries) => _entries = entries;

    /// <summary>The formats the job writes, by name (JSONL, asked formats, then the review files).</summary>
    public IReadOnlyList<IOutputFormat> Formats => [.. _entries.Select(e => e.Format)];

    /// <summary>Opens a writer for each format of <paramref name="job"/>.</summary>
    /// <exception cref="ArgumentException">The job asks for a format no <see cref="IOutputFormat"/> writes.</exception>
    public static JobOutputSet Open(JobRecord job, IEnumerable<IOutputFormat> available, IReadOnlyList<string>? classNames = null)
    {
        var byName = available.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
        var names = OutputFormats.Of(job.Spec).ToList();
        if (job.Spec.Review is not null)
        {
            names.AddRange([ReviewOutputFormat.FormatName, LabelStudioOutputFormat.FormatName, LabelStudioConfigFormat.FormatName]);
        }

        var entries = new List<Entry>(names.Count);
        try
        {
            foreach (var name in names)
            {
                if (!byName.TryGetValue(name, out var format))
                {
                    throw new ArgumentException($"No writer is registered for the output format '{name}'.", nameof(available));
                }

                var spool = Path.Combine(Path.GetTempPath(), $"effnet-{job.JobId:N}-{Guid.NewGuid():N}-{format.FileName}");
                var stream = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
                entries.Add(new Entry(format, stream, format.Create(new OutputContext(stream, job.Spec.TopK, job.Spec, job.DatasetRoot, classNames))));
            }
        }
        catch
        {
            foreach (var entry in entries)
            {
                entry.Stream.Dispose();
            }

            throw;
        }

        return new JobOutputSet(entries);
    }

    /// <summary>Where each file goes under the job's output, by format name.</summary>
    public IReadOnlyDictionary<string, string> Locations(JobRecord job) =>
        _entries.ToDictionary(e => e.Format.Name, e => StorageKeys.JoinLocation(job.Output, e.Format.FileName), StringComparer.Ordinal);

    public async ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
    {
        foreach (var entry in _entries)
        {
            await entry.Writer.WriteAsync(record, cancellationToken);
        }
    }

    /// <summary>Ends every file with the job's summary and commits each, atomically, under the job's output.</summary>
    public async Task PublishAsync(ResolvedLocation output, JobSummary summary, CancellationToken cancellationToken)
    {
        foreach (var entry in _entries)
        {
            await entry.Writer.CompleteAsync(summary, cancellationToken);
            await entry.Stream.FlushAsync(cancellationToken);
        }

        foreach (var entry in _entries)
        {
            await output.Store.CommitAsync(
                output.KeyFor(entry.Format.FileName),
                async (destination, ct) =>
                {
                    entry.Stream.Position = 0;
                    await entry.Stream.CopyToAsync(destination, 1 << 16, ct);
                },
                cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var entry in _entries)
        {
            await entry.Writer.DisposeAsync();
            await entry.Stream.DisposeAsync();
        }
    }

    private sealed record Entry(IOutputFormat Format, FileStream Stream, IOutputWriter Writer);
}
