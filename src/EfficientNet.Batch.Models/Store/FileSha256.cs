using System.Security.Cryptography;

namespace EfficientNet.Batch.Models.Store;

/// <summary>Lower-case hex SHA-256 of a file, read sequentially.</summary>
internal static class FileSha256
{
    public static async Task<string> ComputeAsync(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
    }
}
