using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// A job owns its output location: no other job may write inside it, above it or into the coordinator's state. Two
/// locations overlap when, resolved to the same store, one key prefix equals or contains the other.
/// </summary>
public sealed class OutputOwnership(IStorageResolver storage, IOptions<CoordinatorOptions> options)
{
    /// <summary>Why <paramref name="output"/> may not be used, or null when it is free. A finished job's output may be
    /// taken over with <paramref name="overwrite"/>; an unfinished job's never.</summary>
    public OutputConflict? FindConflict(string output, bool overwrite, IEnumerable<JobRecord> jobs)
    {
        var wanted = Canonical(output);
        if (Overlaps(wanted, Canonical(options.Value.StateLocation)))
        {
            return new OutputConflict(null, $"'output' {Quote.Input(output)} overlaps the coordinator's state location; choose another output.");
        }

        foreach (var job in jobs)
        {
            if (job.OutputTakenOverBy is not null || !Overlaps(wanted, Canonical(job.Output)))
            {
                continue;
            }

            if (!job.IsTerminal)
            {
                return new OutputConflict(job, $"'output' {Quote.Input(output)} overlaps the output of job {job.JobId} ({job.Status}), which is not finished.");
            }

            if (!overwrite)
            {
                return new OutputConflict(job, $"'output' {Quote.Input(output)} overlaps the output of job {job.JobId} ({job.Status}); " +
                    "set \"overwrite\": true to replace it.");
            }
        }

        return null;
    }

    /// <summary>The finished jobs whose output <paramref name="output"/> takes over.</summary>
    public IReadOnlyList<JobRecord> TakenOver(string output, IEnumerable<JobRecord> jobs)
    {
        var wanted = Canonical(output);
        return [.. jobs.Where(j => j.IsTerminal && j.OutputTakenOverBy is null && Overlaps(wanted, Canonical(j.Output)))];
    }

    private string Canonical(string location)
    {
        var resolved = storage.Resolve(location);
        return resolved.Describe().TrimEnd('/');
    }

    private static bool Overlaps(string a, string b) =>
        string.Equals(a, b, StringComparison.Ordinal)
        || a.StartsWith(b + "/", StringComparison.Ordinal)
        || b.StartsWith(a + "/", StringComparison.Ordinal);
}

/// <param name="Job">The job that owns the location; null for the coordinator's state.</param>
public sealed record OutputConflict(JobRecord? Job, string Message);
