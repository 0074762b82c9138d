using System.IO.Compression;
using System.Text;
using EfficientNet.Batch.Models.Checkpoints.Pickle;
using EfficientNet.Batch.Models.Checkpoints.Torch;

namespace EfficientNet.Batch.Models.Checkpoints;

/// <summary>PyTorch ≥ 1.6 checkpoints: <c>&lt;prefix&gt;/data.pkl</c>, <c>&lt;prefix&gt;/data/&lt;key&gt;</c> per storage,
/// <c>&lt;prefix&gt;/version</c>, and optionally <c>&lt;prefix&gt;/byteorder</c>. The prefix is the file stem at save
/// time, so (like torch's own reader) it is taken from the first entry rather than assumed to be "archive".</summary>
internal static class ZipCheckpointFile
{
    public static Checkpoint Read(Stream seekableStream, CheckpointReaderOptions options)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(seekableStream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException($"The checkpoint starts like a zip but is not a readable one (truncated or corrupt): {e.Message}", e);
        }

        using (archive)
        {
            try
            {
                return Read(archive, options);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new CheckpointFormatException($"The checkpoint zip is corrupt: {e.Message}", e);
            }
        }
    }

    private static Checkpoint Read(ZipArchive archive, CheckpointReaderOptions options)
    {
        if (archive.Entries.Count == 0)
        {
            throw new CheckpointFormatException("The checkpoint zip has no entries.");
        }

        var firstName = archive.Entries[0].FullName;
        var slash = firstName.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new CheckpointFormatException($"The checkpoint zip's first entry '{firstName}' is not inside a folder; torch.save writes '<name>/data.pkl'.");
        }

        var prefix = firstName[..slash];
        var version = ReadSmallText(archive, $"{prefix}/version");
        var byteOrder = ReadSmallText(archive, $"{prefix}/byteorder");
        if (byteOrder is not (null or "little"))
        {
            throw new CheckpointFormatException($"The checkpoint's storages are stored {byteOrder}-endian; only little-endian is supported.");
        }

        var pickleEntry = archive.GetEntry($"{prefix}/data.pkl")
            ?? throw new CheckpointFormatException($"The checkpoint zip has no '{prefix}/data.pkl' (a TorchScript archive or not a torch.save file).");
        if (pickleEntry.Length > options.MaxPickleBytes)
        {
            throw new CheckpointFormatException($"'{pickleEntry.FullName}' is {pickleEntry.Length} bytes, more than the {options.MaxPickleBytes} allowed (CheckpointReaderOptions.MaxPickleBytes).");
        }

        object? root;
        var storages = new Dictionary<string, StorageReference>(StringComparer.Ordinal);
        using (var pickleBytes = new MemoryStream((int)pickleEntry.Length))
        {
            using (var entryStream = pickleEntry.Open())
            {
                entryStream.CopyTo(pickleBytes);
            }

            pickleBytes.Position = 0;
            var unpickler = new RestrictedUnpickler(pickleBytes, options.MaxPickleBytes, storages);
            root = unpickler.Load();
        }

        var selection = StateDictAssembler.Select(root, options);
        var (stateDict, converted) = selection.Build(storage => ReadStorage(archive, prefix, storage));
        return new Checkpoint
        {
            StateDict = stateDict,
            Format = CheckpointFormat.Zip,
            ArchivePrefix = prefix,
            ArchiveVersion = version,
            WrapperKey = selection.WrapperKey,
            SkippedKeys = selection.SkippedKeys,
            ConvertedKeys = converted,
        };
    }

    private static float[] ReadStorage(ZipArchive archive, string prefix, StorageReference storage)
    {
        var name = $"{prefix}/data/{storage.Key}";
        var entry = archive.GetEntry(name) ?? throw new CheckpointFormatException($"The checkpoint zip has no '{name}' for storage '{storage.Key}'.");
        if (entry.Length != storage.ByteCount)
        {
            throw new CheckpointFormatException(
                $"'{name}' holds {entry.Length} bytes; the pickle declares {storage.ElementCount} {storage.ElementType} elements ({storage.ByteCount} bytes).");
        }

        using var stream = entry.Open();
        return StorageDecoder.ReadAsFloat32(stream, storage);
    }

    private static string? ReadSmallText(ZipArchive archive, string name)
    {
        var entry = archive.GetEntry(name);
        if (entry is null)
        {
            return null;
        }

        if (entry.Length > 64)
        {
            throw new CheckpointFormatException($"'{name}' is {entry.Length} bytes; torch writes a few characters there.");
        }

        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd().Trim();
    }
}
