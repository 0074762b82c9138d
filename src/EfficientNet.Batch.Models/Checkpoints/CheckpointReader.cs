namespace EfficientNet.Batch.Models.Checkpoints;

/// <summary>Reads a PyTorch checkpoint (torch.save, zip or legacy format) into a <see cref="StateDict"/> of dense
/// float32 tensors without executing anything from the file. Architecture checks are left to the model builder.</summary>
public static class CheckpointReader
{
    public static Checkpoint Read(string path, CheckpointReaderOptions? options = null)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return Read(file, options);
    }

    /// <param name="stream">Read from its current position; left open. A non-seekable stream is buffered in memory first,
    /// because a zip is read from its end.</param>
    public static Checkpoint Read(Stream stream, CheckpointReaderOptions? options = null)
    {
        options ??= CheckpointReaderOptions.Default;
        if (!stream.CanSeek || stream.Position != 0)
        {
            // Also for a stream positioned mid-way: ZipArchive takes zip offsets from the start of the stream.
            var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            buffered.Position = 0;
            return Read(buffered, options);
        }

        Span<byte> head = stackalloc byte[4];
        var headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        head = head[..headLength];

        if (head.SequenceEqual("PK\u0003\u0004"u8))
        {
            return ZipCheckpointFile.Read(stream, options);
        }

        if (headLength >= 2 && head[0] == 0x80)
        {
            // Pickle PROTO opcode: legacy torch.save (or a plain pickle, which the legacy reader refuses).
            // Not disposed: that would close the caller's stream.
            return LegacyCheckpointFile.Read(new BufferedStream(stream, 1 << 16), options);
        }

        throw new CheckpointFormatException(headLength == 0
            ? "The checkpoint is empty."
            : $"Not a PyTorch checkpoint: it starts with bytes {Convert.ToHexString(head)}, neither a zip (504B0304) nor a pickle (80..).");
    }
}
