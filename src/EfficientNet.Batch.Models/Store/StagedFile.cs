using System.Security.Cryptography;

namespace EfficientNet.Batch.Models.Store;

/// <summary>A file being received from a stream (a download, a blob) into a temp file next to its destination,
/// hashed on the way. It becomes visible only through <see cref="Commit"/> (a rename); disposing an uncommitted
/// one deletes it, so a failed or cancelled transfer leaves nothing behind.</summary>
public sealed class StagedFile : IDisposable
{
    private const int BufferSize = 1 << 16;

    private StagedFile(string path, string sha256, long length)
    {
        TempPath = path;
        Sha256 = sha256;
        Length = length;
    }

    /// <summary>Where the bytes are until committed (a hidden <c>.tmp</c> file).</summary>
    public string TempPath { get; private set; }

    /// <summary>Lower-case hex SHA-256 of everything received.</summary>
    public string Sha256 { get; }

    public long Length { get; }

    public bool Committed { get; private set; }

    /// <summary>Copies <paramref name="source"/> to the end into a new temp file in <paramref name="directory"/>.</summary>
    /// <param name="progress">Receives the running byte count after each buffer.</param>
    public static async Task<StagedFile> ReceiveAsync(
        Stream source, string directory, string nameHint, IProgress<long>? progress, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{nameHint}.{Guid.NewGuid():N}.tmp");
        var buffer = new byte[BufferSize];
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    length += read;
                    progress?.Report(length);
                }

                file.Flush(flushToDisk: true);
            }

            return new StagedFile(temp, Convert.ToHexStringLower(hash.GetHashAndReset()), length);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Moves the file to <paramref name="destination"/>, replacing what is there.</summary>
    public void Commit(string destination)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        File.Move(TempPath, destination, overwrite: true);
        TempPath = destination;
        Committed = true;
    }

    public void Dispose()
    {
        if (!Committed)
        {
            File.Delete(TempPath);
        }
    }
}
