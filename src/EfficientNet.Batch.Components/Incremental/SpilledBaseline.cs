using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// Compares a listing in any order with a baseline too large to hold in memory: a hash join in partitions on local
/// temporary files. The baseline's records go to one of <see cref="Partitions"/> files by a hash of their path, and the
/// listing's images likewise, each with its position in the listing. Each partition is then joined on its own, its
/// records in a dictionary (a later record of a path replacing an earlier one, as the records arrived), and its
/// decisions written in listing order; the partitions' decisions are finally merged back into the listing's order by
/// position, so the plan keeps the dataset's order. Memory holds one partition's records and a line per partition,
/// whatever the dataset's size. The local disk holds the baseline's records and the listing while the plan is made (about
/// 350 bytes per image), removed when it is made.
/// </summary>
public sealed class SpilledBaseline : IDisposable
{
    private const int BufferBytes = 1 << 16;

    private readonly SpillWriter?[] _records;
    private readonly SpillWriter?[] _images;
    private long _listed;

    private SpilledBaseline(string folder, int partitions)
    {
        Folder = folder;
        _records = new SpillWriter?[partitions];
        _images = new SpillWriter?[partitions];
    }

    public int Partitions => _records.Length;

    /// <summary>The folder of the spill's files (gone once disposed).</summary>
    public string Folder { get; }

    /// <summary>Baseline records added.</summary>
    public long Records { get; private set; }

    /// <summary>A spill in a new folder under the system's temporary folder, removed when disposed.</summary>
    public static SpilledBaseline Create(Guid jobId, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var folder = Path.Combine(Path.GetTempPath(), $"effnet-baseline-{jobId:N}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return new SpilledBaseline(folder, partitions);
    }

    /// <summary>Adds a baseline record; records of one path must come oldest first (the last one wins).</summary>
    public void AddRecord(PredictionRecord record)
    {
        Records++;
        WriterFor(_records, "records", record.Path).Write(record, SpillJsonContext.Default.PredictionRecord);
    }

    /// <summary>Adds the listing's next image.</summary>
    public void AddImage(ShardImage image) =>
        WriterFor(_images, "images", image.Path).Write(new SpilledImage(_listed++, image), SpillJsonContext.Default.SpilledImage);

    /// <summary>Joins every partition, then hands each of the listing's images to <paramref name="image"/> in the order
    /// they were added, with its baseline record (null when the baseline has none), and after them each record no image
    /// matched to <paramref name="removed"/>, partition by partition.</summary>
    public async Task JoinAsync(Func<ShardImage, PredictionRecord?, Task> image, Func<PredictionRecord, Task> removed, CancellationToken cancellationToken)
    {
        Close(_records);
        Close(_images);
        for (var partition = 0; partition < Partitions; partition++)
        {
            await JoinPartitionAsync(partition, cancellationToken);
        }

        await MergeDecisionsAsync(image, cancellationToken);
        for (var partition = 0; partition < Partitions; partition++)
        {
            await foreach (var record in ReadAsync(PathOf("removed", partition), SpillJsonContext.Default.PredictionRecord, cancellationToken))
            {
                await removed(record);
            }
        }
    }

    public void Dispose()
    {
        Close(_records);
        Close(_images);
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleanup; nothing reads it again.
        }
    }

    /// <summary>The partition's records in a dictionary, its images looked up in listing order: one decision per image,
    /// then each record no image matched.</summary>
    private async Task JoinPartitionAsync(int partition, CancellationToken cancellationToken)
    {
        var previous = new PreviousRecords();
        await foreach (var record in ReadAsync(PathOf("records", partition), SpillJsonContext.Default.PredictionRecord, cancellationToken))
        {
            previous.Add(record);
        }

        using (var decisions = new SpillWriter(PathOf("decisions", partition)))
        {
            await foreach (var listed in ReadAsync(PathOf("images", partition), SpillJsonContext.Default.SpilledImage, cancellationToken))
            {
                decisions.Write(new SpilledDecision(listed.Position, listed.Image, previous.Match(listed.Image.Path)), SpillJsonContext.Default.SpilledDecision);
            }
        }

        using (var removed = new SpillWriter(PathOf("removed", partition)))
        {
            foreach (var record in previous.Unmatched)
            {
                removed.Write(record, SpillJsonContext.Default.PredictionRecord);
            }
        }

        // The partition's decisions hold what the rest of the join needs: the disk holds the spill about once, not twice.
        File.Delete(PathOf("records", partition));
        File.Delete(PathOf("images", partition));
    }

    /// <summary>The partitions' decisions, each file in listing order, merged by position into the listing's order.</summary>
    private async Task MergeDecisionsAsync(Func<ShardImage, PredictionRecord?, Task> image, CancellationToken cancellationToken)
    {
        var readers = new IAsyncEnumerator<SpilledDecision>[Partitions];
        var next = new PriorityQueue<int, long>(Partitions);
        try
        {
            for (var partition = 0; partition < Partitions; partition++)
            {
                readers[partition] = ReadAsync(PathOf("decisions", partition), SpillJsonContext.Default.SpilledDecision, cancellationToken).GetAsyncEnumerator(cancellationToken);
                if (await readers[partition].MoveNextAsync())
                {
                    next.Enqueue(partition, readers[partition].Current.Position);
                }
            }

            while (next.TryDequeue(out var partition, out _))
            {
                var decision = readers[partition].Current;
                await image(decision.Image, decision.Before);
                if (await readers[partition].MoveNextAsync())
                {
                    next.Enqueue(partition, readers[partition].Current.Position);
                }
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                if (reader is not null)
                {
                    await reader.DisposeAsync();
                }
            }
        }
    }

    private SpillWriter WriterFor(SpillWriter?[] writers, string kind, string path)
    {
        var partition = (int)((uint)path.GetHashCode(StringComparison.Ordinal) % (uint)writers.Length);
        return writers[partition] ??= new SpillWriter(PathOf(kind, partition));
    }

    /// <summary>The file's values; a partition nothing was written to has no file and no values.</summary>
    private static async IAsyncEnumerable<T> ReadAsync<T>(string path, JsonTypeInfo<T> typeInfo, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes);
        await foreach (var value in JsonSerializer.DeserializeAsyncEnumerable(stream, typeInfo, topLevelValues: true, cancellationToken))
        {
            yield return value ?? throw new InvalidDataException($"A null value in the spilled baseline file {path}.");
        }
    }

    private static void Close(SpillWriter?[] writers)
    {
        for (var i = 0; i < writers.Length; i++)
        {
            writers[i]?.Dispose();
            writers[i] = null;
        }
    }

    private string PathOf(string kind, int partition) => Path.Combine(Folder, $"{kind}-{partition:D3}.jsonl");

    /// <summary>One spill file: JSON values, one per line, serialised straight to UTF-8.</summary>
    private sealed class SpillWriter : IDisposable
    {
        private readonly FileStream _file;
        private readonly Utf8JsonWriter _json;

        public SpillWriter(string path)
        {
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes);
            _json = new Utf8JsonWriter(_file, new JsonWriterOptions { SkipValidation = true });
        }

        public void Write<T>(T value, JsonTypeInfo<T> typeInfo)
        {
            JsonSerializer.Serialize(_json, value, typeInfo);
            _json.Flush();
            _json.Reset();
            _file.WriteByte((byte)'\n');
        }

        public void Dispose()
        {
            _json.Dispose();
            _file.Dispose();
        }
    }
}

/// <summary>A listed image and its position in the listing.</summary>
internal sealed record SpilledImage(long Position, ShardImage Image);

/// <summary>A listed image, its position in the listing, and its baseline record (none when the baseline has none).</summary>
internal sealed record SpilledDecision(long Position, ShardImage Image, PredictionRecord? Before);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(PredictionRecord))]
[JsonSerializable(typeof(SpilledImage))]
[JsonSerializable(typeof(SpilledDecision))]
internal sealed partial class SpillJsonContext : JsonSerializerContext
{
}
