using System.Numerics;
using EfficientNet.Batch.Models.Checkpoints.Pickle;
using EfficientNet.Batch.Models.Checkpoints.Torch;

namespace EfficientNet.Batch.Models.Checkpoints;

/// <summary>PyTorch &lt; 1.6 checkpoints (and <c>_use_new_zipfile_serialization=False</c>): pickles of the magic number,
/// the protocol version and sys info, then the object, then the sorted list of storage keys; then for each key an
/// 8-byte little-endian element count followed by the raw bytes. Read in one forward pass.</summary>
internal static class LegacyCheckpointFile
{
    private static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);
    private const long ProtocolVersion = 1001;

    public static Checkpoint Read(Stream stream, CheckpointReaderOptions options)
    {
        var storages = new Dictionary<string, StorageReference>(StringComparer.Ordinal);
        long pickleBudget = options.MaxPickleBytes;
        object? NextPickle()
        {
            var unpickler = new RestrictedUnpickler(stream, pickleBudget, storages);
            var value = unpickler.Load();
            pickleBudget -= unpickler.BytesRead;
            return value;
        }

        // A plain pickle (not a torch file) fails here: either at its first unsafe GLOBAL or at the magic check.
        var magic = NextPickle();
        if (magic is not BigInteger number || number != MagicNumber)
        {
            throw new CheckpointFormatException($"The file is a pickle but not a PyTorch checkpoint: it starts with {PickleValueNames.Describe(magic)}, not torch's magic number.");
        }

        if (NextPickle() is not long protocol || protocol != ProtocolVersion)
        {
            throw new CheckpointFormatException($"The legacy checkpoint's protocol version is not {ProtocolVersion}.");
        }

        if (NextPickle() is not PickleDict sysInfo || !sysInfo.TryGetValue("little_endian", out var littleEndian) || littleEndian is not true)
        {
            throw new CheckpointFormatException("The legacy checkpoint was not written on a little-endian machine (or its sys info is missing).");
        }

        var root = NextPickle();
        if (NextPickle() is not List<object?> storageKeys || storageKeys.Any(k => k is not string))
        {
            throw new CheckpointFormatException("The legacy checkpoint's storage key list is missing or malformed.");
        }

        var selection = StateDictAssembler.Select(root, options);
        var needed = selection.NeededStorages;
        var loaded = new Dictionary<string, float[]>(StringComparer.Ordinal);
        Span<byte> countBytes = stackalloc byte[8];
        foreach (var key in storageKeys.Cast<string>())
        {
            if (!storages.TryGetValue(key, out var storage))
            {
                throw new CheckpointFormatException($"The legacy checkpoint lists storage '{key}', which its pickle never references.");
            }

            try
            {
                stream.ReadExactly(countBytes);
            }
            catch (EndOfStreamException e)
            {
                throw new CheckpointFormatException($"The legacy checkpoint ends before storage '{key}' (file truncated?).", e);
            }

            var elementCount = BitConverter.ToInt64(countBytes);
            if (elementCount != storage.ElementCount)
            {
                throw new CheckpointFormatException($"Storage '{key}' has {elementCount} elements on disk; the pickle declares {storage.ElementCount}.");
            }

            if (needed.ContainsKey(key))
            {
                loaded[key] = StorageDecoder.ReadAsFloat32(stream, storage);
            }
            else
            {
                StorageDecoder.Skip(stream, storage);
            }
        }

        var (stateDict, converted) = selection.Build(storage =>
            loaded.Remove(storage.Key, out var values)
                ? values
                : throw new CheckpointFormatException($"The legacy checkpoint has no data for storage '{storage.Key}'."));
        return new Checkpoint
        {
            StateDict = stateDict,
            Format = CheckpointFormat.Legacy,
            WrapperKey = selection.WrapperKey,
            SkippedKeys = selection.SkippedKeys,
            ConvertedKeys = converted,
        };
    }
}
