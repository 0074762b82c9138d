using System.Buffers;
using System.Security.Cryptography;

namespace EfficientNet.Batch.Models.Store;

/// <summary>Lower-case hex SHA-256 of a file, read sequentially.</summary>
internal static class FileSha256
{
    // Large reads straight into one pooled buffer: with a FileStream's own 64 KiB buffer and HashDataAsync's small
    // chunks, a 21 MB model hashed at ~0.7 GB/s against OpenSSL's ~1.8 GB/s (docs/benchmarks.md, *Start-up*).
    private const int ChunkBytes = 1 << 20;

    public static async Task<string> ComputeAsync(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await AppendAsync(file, hash, ct);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Feeds <paramref name="source"/> from its position to its end to <paramref name="hash"/>.</summary>
    public static async Task AppendAsync(Stream source, IncrementalHash hash, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, ChunkBytes), ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
