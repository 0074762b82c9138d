using System.Buffers.Text;
using System.Globalization;
using System.Text;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// The coordinator's in-memory index of its job records, newest first: listing a page, finding unfinished jobs and
/// checking output ownership cost no storage call. It is filled once from the state store (<see cref="JobStateStore"/>
/// does that on first use) and kept current by every write through the store. One coordinator replica owns the state
/// location, so no other process writes behind its back.
/// </summary>
public sealed class JobIndex
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, JobRecord> _byId = [];
    private readonly SortedSet<JobRecord> _newestFirst = new(NewestFirst.Instance);
    private HashSet<Guid>? _removedWhileLoading = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>Records a job as written (a newer version replaces the older one).</summary>
    public void Upsert(JobRecord record)
    {
        lock (_gate)
        {
            if (_byId.Remove(record.JobId, out var previous))
            {
                _newestFirst.Remove(previous);
            }

            _byId[record.JobId] = record;
            _newestFirst.Add(record);
            _removedWhileLoading?.Remove(record.JobId);
        }
    }

    public void Remove(Guid jobId)
    {
        lock (_gate)
        {
            if (_byId.Remove(jobId, out var previous))
            {
                _newestFirst.Remove(previous);
            }

            _removedWhileLoading?.Add(jobId);
        }
    }

    /// <summary>Adds a record read while loading, unless a write or a delete since the load began knows better.</summary>
    public void AddLoaded(JobRecord record)
    {
        lock (_gate)
        {
            if (_byId.ContainsKey(record.JobId) || _removedWhileLoading?.Contains(record.JobId) == true)
            {
                return;
            }

            _byId[record.JobId] = record;
            _newestFirst.Add(record);
        }
    }

    public void LoadingFinished()
    {
        lock (_gate)
        {
            _removedWhileLoading = null;
        }
    }

    public JobRecord? Get(Guid jobId)
    {
        lock (_gate)
        {
            return _byId.GetValueOrDefault(jobId);
        }
    }

    /// <summary>Every job that is not finished, oldest first.</summary>
    public IReadOnlyList<JobRecord> Unfinished()
    {
        lock (_gate)
        {
            return _newestFirst.Where(r => !r.IsTerminal).Reverse().ToList();
        }
    }

    /// <summary>How many unfinished jobs <paramref name="submittedBy"/> has.</summary>
    public int CountUnfinished(string? submittedBy)
    {
        lock (_gate)
        {
            return _newestFirst.Count(r => !r.IsTerminal && string.Equals(r.SubmittedBy, submittedBy, StringComparison.Ordinal));
        }
    }

    /// <summary>Every job, newest first (a copy).</summary>
    public IReadOnlyList<JobRecord> All()
    {
        lock (_gate)
        {
            return [.. _newestFirst];
        }
    }

    /// <summary>Up to <paramref name="limit"/> jobs after <paramref name="cursor"/> (newest first), optionally of one
    /// status and of one submitter, and the cursor of the next page (null on the last).</summary>
    public (IReadOnlyList<JobRecord> Items, string? NextCursor) Page(JobStatus? status, int limit, string? cursor, string? submittedBy = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        (DateTimeOffset SubmittedAt, Guid JobId)? after = cursor is null ? null : JobCursor.Parse(cursor);
        lock (_gate)
        {
            IEnumerable<JobRecord> candidates = _newestFirst;
            if (after is not null && _newestFirst.Count > 0)
            {
                var probe = new JobRecord
                {
                    JobId = after.Value.JobId, SubmittedAt = after.Value.SubmittedAt, Spec = null!, Status = default, Output = "",
                };
                var oldest = _newestFirst.Max!;
                candidates = NewestFirst.Instance.Compare(probe, oldest) >= 0
                    ? []
                    : _newestFirst.GetViewBetween(probe, oldest).Where(r => NewestFirst.Instance.Compare(r, probe) > 0);
            }

            var page = new List<JobRecord>(Math.Min(limit, 1000));
            JobRecord? next = null;
            foreach (var record in candidates)
            {
                if ((status is not null && record.Status != status)
                    || (submittedBy is not null && !string.Equals(record.SubmittedBy, submittedBy, StringComparison.Ordinal)))
                {
                    continue;
                }

                if (page.Count == limit)
                {
                    next = record;
                    break;
                }

                page.Add(record);
            }

            return (page, next is null ? null : JobCursor.Format(page[^1]));
        }
    }

    private sealed class NewestFirst : IComparer<JobRecord>
    {
        public static readonly NewestFirst Instance = new();

        public int Compare(JobRecord? x, JobRecord? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var byTime = y!.SubmittedAt.UtcTicks.CompareTo(x!.SubmittedAt.UtcTicks);
            return byTime != 0 ? byTime : y.JobId.CompareTo(x.JobId);
        }
    }
}

/// <summary>The opaque paging cursor of <c>GET /jobs</c>: the submission time and id of the last job of a page.</summary>
public static class JobCursor
{
    public static string Format(JobRecord last) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{last.SubmittedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{last.JobId:N}"));

    /// <summary>Throws <see cref="FormatException"/> for a cursor this coordinator did not make.</summary>
    public static (DateTimeOffset SubmittedAt, Guid JobId) Parse(string cursor)
    {
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor));
            var parts = text.Split(':');
            if (parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks is >= 0 and <= 3155378975999999999
                && Guid.TryParseExact(parts[1], "N", out var id))
            {
                return (new DateTimeOffset(ticks, TimeSpan.Zero), id);
            }
        }
        catch (FormatException)
        {
            // Reported below.
        }

        throw new FormatException("'cursor' is not a cursor from a previous page of GET /jobs (pass nextCursor as it came).");
    }
}
