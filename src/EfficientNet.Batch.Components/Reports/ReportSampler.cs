using System.Buffers;
using EfficientNet.Batch.Components.Jobs;

namespace EfficientNet.Batch.Components.Reports;

/// <summary>One image the report shows: its path, label, top-1 class and thumbnail (decoded JPEG; null when the record
/// had none or an unusable one, and the page shows a placeholder).</summary>
public sealed record ReportSample(string Path, int? Label, PredictedClass Top1, byte[]? Thumbnail);

/// <summary>The gallery sample of one top-1 class and how many images had it.</summary>
public sealed record ClassSamples(int Index, string Name, long Count, IReadOnlyList<ReportSample> Samples);

/// <summary>Images labelled <see cref="Actual"/> and predicted as <see cref="Predicted"/>: how many, and the first few.</summary>
public sealed record PairSamples(int Actual, int Predicted, long Count, IReadOnlyList<ReportSample> Samples);

/// <summary>Records that failed with one error kind: how many, and the first few.</summary>
public sealed record ErrorSamples(string Kind, long Count, IReadOnlyList<ErrorExample> Examples);

public sealed record ErrorExample(string Path, string Message);

/// <summary>
/// Keeps what <c>report.html</c> shows from a stream of records of any length, in memory bounded by
/// <see cref="ReportLimits"/> alone: per top-1 class a uniform sample of <see cref="ReportLimits.ThumbnailsPerClass"/>
/// images (for up to <see cref="ReportLimits.TrackedClasses"/> classes), the <see cref="ReportLimits.LowConfidence"/>
/// records with the lowest top-1 probability, the first <see cref="ReportLimits.ExamplesPerPair"/> examples of up to
/// <see cref="ReportLimits.TrackedPairs"/> (label, predicted) pairs, and the first
/// <see cref="ReportLimits.ErrorExamplesPerKind"/> paths of up to <see cref="ReportLimits.ErrorKinds"/> error kinds.
/// </summary>
/// <remarks>
/// Class samples are the images with the smallest hash of their path (a bottom-k sample): uniform, and the same
/// whatever the order the records arrive in, so a re-merged job shows the same report. Paths and names are cut to
/// <see cref="ReportLimits.MaxPathChars"/> and <see cref="ReportLimits.MaxNameChars"/>, thumbnails over
/// <see cref="ReportLimits.MaxThumbnailBytes"/> are dropped. Not thread-safe: the merge adds records one at a time.
/// </remarks>
public sealed class ReportSampler
{
    private static readonly IComparer<ulong> Descending = Comparer<ulong>.Create((a, b) => b.CompareTo(a));
    private static readonly IComparer<(float Probability, ulong Hash)> LowestFirstOut =
        Comparer<(float Probability, ulong Hash)>.Create((a, b) => b.CompareTo(a));

    private readonly Dictionary<int, ClassState> _classes = [];
    // Max-heap on (probability, hash): the root is the record that leaves first when a less confident one comes.
    private readonly PriorityQueue<ReportSample, (float Probability, ulong Hash)> _lowConfidence = new(LowestFirstOut);
    private readonly Dictionary<(int Actual, int Predicted), PairState> _pairs = [];
    private readonly Dictionary<string, ErrorState> _errors = new(StringComparer.Ordinal);

    /// <summary>Records added.</summary>
    public long Records { get; private set; }

    /// <summary>Samples held now (class galleries, low-confidence, confused pairs, error examples): never more than
    /// <see cref="MaxRetainedSamples"/>.</summary>
    public int RetainedSamples { get; private set; }

    /// <summary>The most samples a sampler ever holds, whatever the number of records.</summary>
    public static int MaxRetainedSamples =>
        (ReportLimits.TrackedClasses * ReportLimits.ThumbnailsPerClass) + ReportLimits.LowConfidence +
        (ReportLimits.TrackedPairs * ReportLimits.ExamplesPerPair) + (ReportLimits.ErrorKinds * ReportLimits.ErrorExamplesPerKind);

    public void Add(PredictionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Records++;
        if (record.IsError)
        {
            AddError(record);
            return;
        }

        if (record.Top1 is not { } top1)
        {
            return;
        }

        // Decide first, build the sample (and decode its thumbnail) only for the few records that are kept.
        var hash = Hash(record.Path);
        var @class = CountClass(top1);
        var toClass = @class is not null && (@class.Reservoir.Count < ReportLimits.ThumbnailsPerClass ||
            (@class.Reservoir.TryPeek(out _, out var largest) && hash < largest));

        // NaN ranks lowest: a model that produced one is worth looking at first.
        var confidence = (float.IsNaN(top1.Probability) ? float.NegativeInfinity : top1.Probability, hash);
        var toLowConfidence = _lowConfidence.Count < ReportLimits.LowConfidence ||
            (_lowConfidence.TryPeek(out _, out var highest) && confidence.CompareTo(highest) < 0);

        var pair = record.Label is { } label && label != top1.Index ? CountPair(label, top1.Index) : null;
        var toPair = pair is not null && pair.Samples.Count < ReportLimits.ExamplesPerPair;
        if (!toClass && !toLowConfidence && !toPair)
        {
            return;
        }

        var sample = new ReportSample(
            Truncate(record.Path, ReportLimits.MaxPathChars),
            record.Label,
            top1.Name.Length > ReportLimits.MaxNameChars ? top1 with { Name = Truncate(top1.Name, ReportLimits.MaxNameChars) } : top1,
            Decode(record.Thumbnail));
        if (toClass)
        {
            Keep(@class!.Reservoir, ReportLimits.ThumbnailsPerClass, sample, hash);
        }

        if (toLowConfidence)
        {
            Keep(_lowConfidence, ReportLimits.LowConfidence, sample, confidence);
        }

        if (toPair)
        {
            pair!.Samples.Add(sample);
            RetainedSamples++;
        }
    }

    /// <summary>The sampled classes, most frequent first (ties by index), each with its samples ordered by path.</summary>
    public IReadOnlyList<ClassSamples> Classes =>
        _classes
            .OrderByDescending(c => c.Value.Count)
            .ThenBy(c => c.Key)
            .Select(c => new ClassSamples(
                c.Key, c.Value.Name, c.Value.Count, c.Value.Reservoir.UnorderedItems.Select(i => i.Element).OrderBy(s => s.Path, StringComparer.Ordinal).ToList()))
            .ToList();

    /// <summary>The least confident records, least confident first.</summary>
    public IReadOnlyList<ReportSample> LowConfidence =>
        _lowConfidence.UnorderedItems.OrderBy(i => i.Priority).Select(i => i.Element).ToList();

    /// <summary>The tracked (label, predicted) pairs, most frequent first (ties by label, then prediction).</summary>
    public IReadOnlyList<PairSamples> ConfusedPairs =>
        _pairs
            .OrderByDescending(p => p.Value.Count)
            .ThenBy(p => p.Key.Actual)
            .ThenBy(p => p.Key.Predicted)
            .Select(p => new PairSamples(p.Key.Actual, p.Key.Predicted, p.Value.Count, p.Value.Samples))
            .ToList();

    /// <summary>The tracked error kinds, most frequent first (ties by name).</summary>
    public IReadOnlyList<ErrorSamples> Errors =>
        _errors
            .OrderByDescending(e => e.Value.Count)
            .ThenBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => new ErrorSamples(e.Key, e.Value.Count, e.Value.Examples))
            .ToList();

    /// <summary>The first examples of images labelled <paramref name="actual"/> and predicted as
    /// <paramref name="predicted"/> (empty when the pair was not tracked).</summary>
    public IReadOnlyList<ReportSample> ConfusedExamples(int actual, int predicted) =>
        _pairs.TryGetValue((actual, predicted), out var pair) ? pair.Samples : [];

    /// <summary>Counts an image of <paramref name="top1"/>'s class; null when the class is not tracked.</summary>
    private ClassState? CountClass(PredictedClass top1)
    {
        if (!_classes.TryGetValue(top1.Index, out var state))
        {
            if (_classes.Count >= ReportLimits.TrackedClasses)
            {
                return null;
            }

            state = new ClassState(Truncate(top1.Name, ReportLimits.MaxNameChars));
            _classes.Add(top1.Index, state);
        }

        state.Count++;
        return state;
    }

    /// <summary>Counts a mislabelled image; null when its pair is not tracked.</summary>
    private PairState? CountPair(int actual, int predicted)
    {
        if (!_pairs.TryGetValue((actual, predicted), out var state))
        {
            if (_pairs.Count >= ReportLimits.TrackedPairs)
            {
                return null;
            }

            state = new PairState();
            _pairs.Add((actual, predicted), state);
        }

        state.Count++;
        return state;
    }

    /// <summary>Adds to a bounded heap whose root is the first to leave (the caller checked it belongs).</summary>
    private void Keep<TPriority>(PriorityQueue<ReportSample, TPriority> heap, int capacity, ReportSample sample, TPriority priority)
    {
        if (heap.Count < capacity)
        {
            heap.Enqueue(sample, priority);
            RetainedSamples++;
        }
        else
        {
            heap.DequeueEnqueue(sample, priority);
        }
    }

    private void AddError(PredictionRecord record)
    {
        var kind = Truncate(string.IsNullOrEmpty(record.ErrorKind) ? "error" : record.ErrorKind, ReportLimits.MaxNameChars);
        if (!_errors.TryGetValue(kind, out var state))
        {
            if (_errors.Count >= ReportLimits.ErrorKinds)
            {
                return;
            }

            state = new ErrorState();
            _errors.Add(kind, state);
        }

        state.Count++;
        if (state.Examples.Count < ReportLimits.ErrorExamplesPerKind)
        {
            state.Examples.Add(new ErrorExample(Truncate(record.Path, ReportLimits.MaxPathChars), Truncate(record.Error ?? "", ReportLimits.MaxTextChars)));
            RetainedSamples++;
        }
    }

    /// <summary>The JPEG bytes of a base64 thumbnail; null for none, one that is not base64, not a JPEG, or over
    /// <see cref="ReportLimits.MaxThumbnailBytes"/>.</summary>
    internal static byte[]? Decode(string? base64)
    {
        if (string.IsNullOrEmpty(base64) || base64.Length > (ReportLimits.MaxThumbnailBytes + 2) / 3 * 4)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ReportLimits.MaxThumbnailBytes);
        try
        {
            return Convert.TryFromBase64String(base64, buffer, out var length) && length >= 3 && buffer[0] == 0xFF && buffer[1] == 0xD8 && buffer[2] == 0xFF
                ? buffer.AsSpan(0, length).ToArray()
                : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary><paramref name="value"/> cut to <paramref name="max"/> characters: its start and end around an ellipsis
    /// (a path's file name stays readable), never splitting a surrogate pair.</summary>
    internal static string Truncate(string value, int max)
    {
        if (value.Length <= max)
        {
            return value;
        }

        var tail = (max - 1) / 2;
        var head = max - 1 - tail;
        if (char.IsHighSurrogate(value[head - 1]))
        {
            head--;
        }

        if (char.IsLowSurrogate(value[^tail]))
        {
            tail--;
        }

        return string.Concat(value.AsSpan(0, head), "…", value.AsSpan(value.Length - tail));
    }

    /// <summary>FNV-1a of the path's characters, then the SplitMix64 finaliser so that similar paths spread evenly.</summary>
    private static ulong Hash(string path)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in path)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }

    private sealed class ClassState(string name)
    {
        public string Name { get; } = name;

        public long Count { get; set; }

        // Max-heap on the path hash: the root leaves when an image with a smaller hash comes.
        public PriorityQueue<ReportSample, ulong> Reservoir { get; } = new(Descending);
    }

    private sealed class PairState
    {
        public long Count { get; set; }

        public List<ReportSample> Samples { get; } = new(ReportLimits.ExamplesPerPair);
    }

    private sealed class ErrorState
    {
        public long Count { get; set; }

        public List<ErrorExample> Examples { get; } = new(ReportLimits.ErrorExamplesPerKind);
    }
}
