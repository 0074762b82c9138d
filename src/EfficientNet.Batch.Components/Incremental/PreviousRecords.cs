using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// Previous records by path, as a comparison in any order holds them (the whole baseline in memory, or one partition of
/// a <see cref="SpilledBaseline"/>): a later record of a path replaces an earlier one and keeps its place, a path the
/// listing asks for is marked matched, and the records never matched are the paths the dataset no longer has.
/// </summary>
internal sealed class PreviousRecords
{
    private readonly Dictionary<string, Entry> _byPath = new(StringComparer.Ordinal);

    public int Count => _byPath.Count;

    /// <summary>Every record, a path once, in the order its path was first added (a dictionary never removed from
    /// enumerates in insertion order).</summary>
    public IEnumerable<PredictionRecord> All => _byPath.Values.Select(e => e.Record);

    /// <summary>The records no <see cref="Match"/> asked for, in the order of <see cref="All"/>.</summary>
    public IEnumerable<PredictionRecord> Unmatched => _byPath.Values.Where(e => !e.Matched).Select(e => e.Record);

    public void Add(PredictionRecord record) => _byPath[record.Path] = new Entry(record);

    /// <summary>The record of <paramref name="path"/>, now matched; null when there is none.</summary>
    public PredictionRecord? Match(string path)
    {
        if (!_byPath.TryGetValue(path, out var entry))
        {
            return null;
        }

        entry.Matched = true;
        return entry.Record;
    }

    /// <summary>Forgets every record and gives the memory back.</summary>
    public void Clear()
    {
        _byPath.Clear();
        _byPath.TrimExcess();
    }

    private sealed class Entry(PredictionRecord record)
    {
        public PredictionRecord Record { get; } = record;

        public bool Matched { get; set; }
    }
}
