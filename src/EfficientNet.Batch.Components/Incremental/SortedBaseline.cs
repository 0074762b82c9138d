using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// The records of an incremental job's baseline sources merged into one stream in ordinal path order, for a join with
/// a dataset listed in that order (a folder or prefix): it holds one record per source, not one per image. Where
/// sources share a path, the later source's record wins (sources come oldest first), and within one source the later
/// line wins, as they did in a dictionary filled in that order. A source whose paths go backwards cannot be joined:
/// <see cref="PlanOrderException"/> says so, and the planner compares in memory instead.
/// </summary>
public sealed class SortedBaseline : IAsyncDisposable
{
    private readonly IReadOnlyList<BaselineSource> _sources;
    private readonly IAsyncEnumerator<PredictionRecord>[] _readers;
    private readonly PredictionRecord?[] _heads;
    private PredictionRecord? _next;

    private SortedBaseline(IReadOnlyList<BaselineSource> sources, CancellationToken cancellationToken)
    {
        _sources = sources;
        _readers = [.. sources.Select(s => s.ReadRecords(cancellationToken).GetAsyncEnumerator(cancellationToken))];
        _heads = new PredictionRecord?[sources.Count];
    }

    /// <param name="sources">Oldest first: a later source's record of a path replaces an earlier one's.</param>
    public static async Task<SortedBaseline> OpenAsync(IReadOnlyList<BaselineSource> sources, CancellationToken cancellationToken)
    {
        var baseline = new SortedBaseline(sources, cancellationToken);
        try
        {
            for (var i = 0; i < sources.Count; i++)
            {
                await baseline.AdvanceAsync(i);
            }

            baseline._next = await baseline.MergeNextAsync();
            return baseline;
        }
        catch
        {
            await baseline.DisposeAsync();
            throw;
        }
    }

    /// <summary>Moves to <paramref name="path"/>: every record whose path sorts before it is handed to
    /// <paramref name="passed"/> (the dataset no longer has it), and the record of <paramref name="path"/> is returned,
    /// or null when the baseline has none. Paths must be asked for in ascending ordinal order.</summary>
    public async Task<PredictionRecord?> SeekAsync(string path, Func<PredictionRecord, Task> passed)
    {
        while (_next is { } record && string.CompareOrdinal(record.Path, path) < 0)
        {
            await passed(record);
            _next = await MergeNextAsync();
        }

        if (_next is { } match && string.Equals(match.Path, path, StringComparison.Ordinal))
        {
            _next = await MergeNextAsync();
            return match;
        }

        return null;
    }

    /// <summary>Hands every record not reached yet to <paramref name="passed"/>.</summary>
    public async Task DrainAsync(Func<PredictionRecord, Task> passed)
    {
        while (_next is { } record)
        {
            await passed(record);
            _next = await MergeNextAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var reader in _readers)
        {
            await reader.DisposeAsync();
        }
    }

    /// <summary>The record of the smallest path any source is at, each source's lines of that path consumed.</summary>
    private async Task<PredictionRecord?> MergeNextAsync()
    {
        string? smallest = null;
        foreach (var head in _heads)
        {
            if (head is not null && (smallest is null || string.CompareOrdinal(head.Path, smallest) < 0))
            {
                smallest = head.Path;
            }
        }

        if (smallest is null)
        {
            return null;
        }

        PredictionRecord? winner = null;
        for (var i = 0; i < _heads.Length; i++)
        {
            while (_heads[i] is { } head && string.Equals(head.Path, smallest, StringComparison.Ordinal))
            {
                winner = head;
                await AdvanceAsync(i);
            }
        }

        return winner;
    }

    private async Task AdvanceAsync(int source)
    {
        var previous = _heads[source];
        _heads[source] = await _readers[source].MoveNextAsync() ? _readers[source].Current : null;
        if (previous is not null && _heads[source] is { } next && string.CompareOrdinal(next.Path, previous.Path) < 0)
        {
            throw new PlanOrderException(
                $"{_sources[source].Description} is not in path order ('{next.Path}' follows '{previous.Path}')");
        }
    }
}

/// <summary>The dataset or a baseline source is not in ascending ordinal path order, so the two cannot be joined as
/// they stream.</summary>
public sealed class PlanOrderException(string message) : Exception(message);
