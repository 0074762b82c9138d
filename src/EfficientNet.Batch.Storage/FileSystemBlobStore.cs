namespace EfficientNet.Batch.Storage;

/// <summary>
/// <see cref="IBlobStore"/> over one folder of the local file system; keys are '/'-separated paths under it.
/// </summary>
/// <remarks>
/// <para>Every write (conditional or not, and <see cref="CommitAsync"/>) streams the content into a unique temporary
/// file in the destination folder, fsyncs it, and then renames it over the destination with
/// <see cref="File.Move(string, string, bool)"/>, which is a single atomic rename(2) on POSIX: readers see the old
/// object or the new one, never a mix, and an open reader keeps reading the version it opened.</para>
/// <para>The condition check and the rename run under a per-folder lock, so check-then-rename is race-safe across
/// threads and processes: the lock is an flock(LOCK_EX) on a hidden lock file in that folder, taken by opening it
/// with <see cref="FileShare.None"/> (.NET maps that to flock on Unix). The kernel drops the lock when the holder
/// dies, so a crash cannot leave a stale lock. The lock file is never deleted: deleting it would let two processes
/// hold locks on two different inodes of the same path. (Setting DOTNET_SYSTEM_IO_DISABLEFILELOCKING disables
/// this and with it the cross-process guarantee.) Only the short check-and-rename step is serialised, not the
/// content upload.</para>
/// <para>The ETag is the last-write time in ticks plus the length. Because the temporary file is renamed, a new
/// write always carries the temporary file's own timestamp; if it would collide with the replaced object's ETag
/// (same length, same timestamp at the file system's resolution), the timestamp is nudged forward under the lock.</para>
/// <para>Temporary and lock files are named <see cref="BlobKey.ReservedSegmentPrefix"/>…, hidden from listings and
/// refused as keys. Temporary files of a process that crashed mid-write stay behind (hidden) until removed.</para>
/// </remarks>
public sealed class FileSystemBlobStore : IBlobStore
{
    private const string LockFileName = BlobKey.ReservedSegmentPrefix + ".lock";
    private const string TempFilePrefix = BlobKey.ReservedSegmentPrefix + "-tmp.";
    private const int FileBufferSize = 1 << 16;

    // In-process gate in front of the file lock, so that threads of one process queue instead of polling flock.
    private static readonly SemaphoreSlim[] FolderGates = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    // Steps tried, smallest first, to make a new ETag differ from the replaced one (covers ns to 2 s timestamp resolution).
    private static readonly TimeSpan[] TimestampNudges =
        [TimeSpan.FromTicks(10), TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private readonly string _root;

    /// <param name="rootDirectory">The folder the keys are relative to; created on first write, not before.</param>
    public FileSystemBlobStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
    }

    /// <summary>The absolute path of the root folder.</summary>
    public string RootDirectory => _root;

    public string Describe(string key = "")
    {
        var root = _root.Replace('\\', '/');
        if (!root.StartsWith('/'))
        {
            root = "/" + root; // Windows drive paths: file:///C:/data
        }

        return "file://" + (key.Length == 0 ? root : root.TrimEnd('/') + "/" + key);
    }

    public Task<BlobPage> ListPageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        BlobKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);

        // Directory enumeration has no async API; keep it off the caller's thread.
        return Task.Run(() =>
        {
            var items = new List<BlobEntry>(Math.Min(pageSize, 1024));
            var startFolder = prefix.LastIndexOf('/') is var slash and >= 0 ? prefix[..slash] : "";
            foreach (var entry in ListOrdered(startFolder, prefix, continuationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (items.Count == pageSize)
                {
                    // The token is the last key returned: the next page starts strictly after it.
                    return new BlobPage(items, items[^1].Key);
                }

                items.Add(entry);
            }

            return new BlobPage(items, null);
        }, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            Stream stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = FileBufferSize,
            });
            return Task.FromResult(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException
                                  || (e is UnauthorizedAccessException && Directory.Exists(path)))
        {
            throw new BlobNotFoundException(key, e);
        }
    }

    public Task<BlobEntry?> GetPropertiesAsync(string key, CancellationToken cancellationToken)
    {
        var info = new FileInfo(PathOf(key));
        return Task.FromResult(info.Exists ? EntryOf(key, info) : null);
    }

    public Task<BlobEntry> WriteAsync(string key, Stream content, WriteCondition condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        return PublishAsync(key, (target, ct) => content.CopyToAsync(target, ct), condition, cancellationToken);
    }

    public Task<BlobEntry> CommitAsync(string key, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writeContent);
        return PublishAsync(key, writeContent, WriteCondition.None, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
        {
            return false;
        }

        // Under the lock, so that a delete cannot slip between another writer's condition check and its rename.
        using (await FolderLock.AcquireAsync(folder, cancellationToken))
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
    }

    private async Task<BlobEntry> PublishAsync(
        string key, Func<Stream, CancellationToken, Task> writeContent, WriteCondition condition, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        ThrowIfConditionFails(key, path, condition); // fail fast; the authoritative check is repeated under the lock

        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var tempPath = Path.Join(folder, TempFilePrefix + Guid.NewGuid().ToString("N"));
        try
        {
            var temp = new FileStream(tempPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = FileBufferSize,
            });
            await using (temp)
            {
                await writeContent(temp, cancellationToken);
            }

            // fsync before the rename: after a power loss the key must not point at a file whose data never hit disk.
            // Reopened because writeContent may have disposed the stream it was given.
            using (var reopened = new FileStream(tempPath, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                reopened.Flush(flushToDisk: true);
            }

            using (await FolderLock.AcquireAsync(folder, cancellationToken))
            {
                ThrowIfConditionFails(key, path, condition);
                MakeETagDifferFromReplaced(tempPath, path);
                File.Move(tempPath, path, overwrite: true);
                return EntryOf(key, new FileInfo(path));
            }
        }
        finally
        {
            // Only still there when something failed before the rename.
            File.Delete(tempPath);
        }
    }

    private static void ThrowIfConditionFails(string key, string path, WriteCondition condition)
    {
        if (condition.IfAbsent && File.Exists(path))
        {
            throw new BlobConditionFailedException(key);
        }

        if (condition.IfMatchETag is { } expected)
        {
            var current = new FileInfo(path);
            if (!current.Exists || !string.Equals(ETagOf(current), expected, StringComparison.Ordinal))
            {
                throw new BlobConditionFailedException(key);
            }
        }
    }

    private static void MakeETagDifferFromReplaced(string tempPath, string path)
    {
        var replaced = new FileInfo(path);
        if (!replaced.Exists)
        {
            return;
        }

        var fresh = new FileInfo(tempPath);
        foreach (var nudge in TimestampNudges)
        {
            if (ETagOf(fresh) != ETagOf(replaced))
            {
                return;
            }

            File.SetLastWriteTimeUtc(tempPath, replaced.LastWriteTimeUtc + nudge);
            fresh.Refresh();
        }
    }

    private string PathOf(string key)
    {
        BlobKey.Validate(key);
        return Path.Join(_root, key);
    }

    private static string ETagOf(FileInfo info) => $"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}";

    private static BlobEntry EntryOf(string key, FileInfo info) =>
        new(key, info.Length, ETagOf(info), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));

    /// <summary>
    /// Keys under <paramref name="folder"/> that start with <paramref name="prefix"/> and sort after
    /// <paramref name="after"/>, in ordinal key order, lazily: only the folders a page needs are read.
    /// </summary>
    private IEnumerable<BlobEntry> ListOrdered(string folder, string prefix, string? after)
    {
        var directory = new DirectoryInfo(folder.Length == 0 ? _root : Path.Join(_root, folder));
        if (!directory.Exists)
        {
            yield break;
        }

        // A folder sorts as "name/" so that its keys land exactly where ordinal key order puts them
        // ("a.txt" < "a/b" because '.' < '/', and "a/b" < "a0").
        var children = new List<(string SortKey, FileSystemInfo Info)>();
        foreach (var info in directory.EnumerateFileSystemInfos("*", ListingOptions))
        {
            if (BlobKey.IsReservedName(info.Name))
            {
                continue;
            }

            var key = BlobKey.Join(folder, info.Name);
            if (info is DirectoryInfo)
            {
                // Symbolic links to folders are not followed: they could form cycles.
                if (info.LinkTarget is null && MayHoldKeys(key + "/", prefix, after))
                {
                    children.Add((key + "/", info));
                }
            }
            else if (key.StartsWith(prefix, StringComparison.Ordinal) && (after is null || string.CompareOrdinal(key, after) > 0))
            {
                children.Add((key, info));
            }
        }

        children.Sort((x, y) => string.CompareOrdinal(x.SortKey, y.SortKey));
        foreach (var (sortKey, info) in children)
        {
            if (info is FileInfo file)
            {
                BlobEntry entry;
                try
                {
                    entry = EntryOf(sortKey, file);
                }
                catch (FileNotFoundException)
                {
                    continue; // deleted since the folder was read
                }

                yield return entry;
            }
            else
            {
                foreach (var entry in ListOrdered(sortKey[..^1], prefix, after))
                {
                    yield return entry;
                }
            }
        }
    }

    private static readonly EnumerationOptions ListingOptions = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = 0, // dot files are ordinary keys
        ReturnSpecialDirectories = false,
    };

    /// <summary>Whether a folder whose keys all start with <paramref name="folderKey"/> ("x/y/") can hold a key
    /// that starts with <paramref name="prefix"/> and sorts after <paramref name="after"/>.</summary>
    private static bool MayHoldKeys(string folderKey, string prefix, string? after)
    {
        var prefixOverlaps = folderKey.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(folderKey, StringComparison.Ordinal);
        return prefixOverlaps
               && (after is null
                   || string.CompareOrdinal(folderKey, after) > 0
                   || after.StartsWith(folderKey, StringComparison.Ordinal));
    }

    /// <summary>Exclusive lock on one folder: an in-process gate plus flock on the folder's lock file.</summary>
    private sealed class FolderLock : IDisposable
    {
        private readonly SemaphoreSlim _gate;
        private readonly FileStream _lockFile;

        private FolderLock(SemaphoreSlim gate, FileStream lockFile)
        {
            _gate = gate;
            _lockFile = lockFile;
        }

        public static async Task<FolderLock> AcquireAsync(string folder, CancellationToken cancellationToken)
        {
            var gate = FolderGates[(StringComparer.Ordinal.GetHashCode(folder) & int.MaxValue) % FolderGates.Length];
            await gate.WaitAsync(cancellationToken);
            try
            {
                var lockPath = Path.Join(folder, LockFileName);
                var delayMs = 1;
                while (true)
                {
                    try
                    {
                        return new FolderLock(gate, new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                    }
                    catch (IOException e) when (IsHeldElsewhere(e))
                    {
                        // Another process holds it; flock has no async wait, so back off and retry.
                        await Task.Delay(delayMs, cancellationToken);
                        delayMs = Math.Min(delayMs * 2, 50);
                    }
                }
            }
            catch
            {
                gate.Release();
                throw;
            }
        }

        public void Dispose()
        {
            _lockFile.Dispose();
            _gate.Release();
        }

        // EWOULDBLOCK (11) from flock on Linux; ERROR_SHARING_VIOLATION on Windows.
        private static bool IsHeldElsewhere(IOException e) => e.HResult is 11 or 35 or unchecked((int)0x80070020);
    }
}
