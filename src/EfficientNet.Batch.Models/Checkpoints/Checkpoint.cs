namespace EfficientNet.Batch.Models.Checkpoints;

/// <summary>How the checkpoint file was laid out on disk.</summary>
public enum CheckpointFormat
{
    /// <summary>PyTorch ≥ 1.6: a zip holding <c>&lt;prefix&gt;/data.pkl</c> and one entry per storage.</summary>
    Zip,

    /// <summary>PyTorch before 1.6 (or <c>_use_new_zipfile_serialization=False</c>): a sequence of pickles followed by raw storages.</summary>
    Legacy,
}

/// <summary>Element type of a torch storage, named after the <c>torch.*Storage</c> class that declares it.</summary>
public enum CheckpointElementType
{
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

/// <summary>A checkpoint read into dense float32 tensors, plus what the reader saw and did on the way.</summary>
public sealed class Checkpoint
{
    public required StateDict StateDict { get; init; }

    public required CheckpointFormat Format { get; init; }

    /// <summary>Zip only: the top-level folder of every entry, which torch takes from the file stem at save time.</summary>
    public string? ArchivePrefix { get; init; }

    /// <summary>Zip only: the text of <c>&lt;prefix&gt;/version</c> (torch writes "3").</summary>
    public string? ArchiveVersion { get; init; }

    /// <summary>The key that held the state dict (<c>state_dict</c>), or null when the file is the flat state dict itself.</summary>
    public string? WrapperKey { get; init; }

    /// <summary>Keys present in the file but left out of <see cref="StateDict"/> (int64 <c>num_batches_tracked</c> counters).</summary>
    public required IReadOnlyList<string> SkippedKeys { get; init; }

    /// <summary>Keys whose storage was not float32 and was converted, with the element type found in the file.</summary>
    public required IReadOnlyDictionary<string, CheckpointElementType> ConvertedKeys { get; init; }

    public int TensorCount => StateDict.Count;
}

/// <summary>Limits that keep a hostile or broken file from exhausting memory before it is recognised as such.</summary>
public sealed record CheckpointReaderOptions
{
    public static CheckpointReaderOptions Default { get; } = new();

    /// <summary>Largest pickle accepted. Every stack, memo and container entry costs at least one pickle byte, so this
    /// also bounds the unpickler's memory. Real state-dict pickles are well under 1 MiB (b8: about 100 KiB).</summary>
    public long MaxPickleBytes { get; init; } = 64L << 20;

    /// <summary>Largest total of storage bytes read (b8 float32 weights are about 350 MB). Checked against what the
    /// pickle declares before anything is allocated.</summary>
    public long MaxTotalStorageBytes { get; init; } = 4L << 30;
}
