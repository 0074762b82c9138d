using System.IO.Enumeration;

namespace EfficientNet.Batch.Storage;

/// <summary>
/// <see cref="IBlobStore"/> over one folder of the local file system; keys are '/'-separated paths under it.
/// </summary>
/// <remarks>
/// <para>Every write (conditional or not, and <see cref="CommitAsync"/>) streams the content into a unique temporary
/// file in the destination folder, fsyncs it, and then renames it over the destination with
/// <see cref="File.Move(string, string, bool)"/>, which is a single atomic rename(2) on POSIX: readers see the old
/// object or the new one, never a mix, and an open reader keeps reading the version it opened.</para>
/// <para>The condition check and the rename run under a per-folder <see cref="FolderLock"/>, so check-then-rename is
/// race-safe across threads and processes; only that short step is serialised, not the content upload. No lock file is
/// left in the folder (on Linux and macOS the folder itself is locked).</para>
/// <para>A delete that empties a folder removes it, and its emptied parents up to the root, so that deleting a job's
/// shard results leaves no empty folders behind. A write that finds its folder removed under it creates it again.</para>
/// <para>The ETag is the last-write time in ticks plus the length. Because the temporary file is renamed, a new
/// write always carries the temporary file's own timestamp; if it would collide with the replaced object's ETag
/// (same length, same timestamp at the file system's resolution), the timestamp is nudged forward under the lock.</para>
/// <para>Temporary files (and the lock file on Windows) are named <see cref="BlobKey.ReservedSegmentPrefix"/>…, hidden from listings and
/// refused as keys. Temporary files of a process that crashed mid-write stay behind (hidden) until removed.</para>
/// </remarks>
public sealed class FileSystemBlobStore : IBlobStore
{
    private const string TempFilePrefix = BlobKey.ReservedSegmentPrefix + "-tmp.";
    private const int FileBufferSize = 1 << 16;

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
            foreach (var entry in ListOrdered(startFolder, prefix, continuationToken, window: pageSize + 1))
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

        // Under the lock, so that a delete cannot slip between another writer's condition check and its rename.
        using (var folderLock = await FolderLock.AcquireAsync(folder, cancellationToken))
        {
            if (folderLock is null || !File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
        }

        RemoveEmptyFolders(folder);
        return true;
    }

    /// <summary>Removes <paramref name="folder"/> and then each parent below the root, as long as they are empty.</summary>
    private void RemoveEmptyFolders(string folder)
    {
        while (folder.Length > _root.Length && folder.StartsWith(_root, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(folder, recursive: false);
            }
            catch (IOException)
            {
                return; // not empty (or already gone): nothing above it can be empty either
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private async Task<BlobEntry> PublishAsync(
        string key, Func<Stream, CancellationToken, Task> writeContent, WriteCondition condition, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        ThrowIfConditionFails(key, path, condition); // fail fast; the authoritative check is repeated under the lock

        var folder = Path.GetDirectoryName(path)!;
        var (temp, tempPath) = CreateTemporaryFile(folder);
        try
        {
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

            // The folder holds the temporary file, so no delete can have removed it.
            using (await FolderLock.AcquireAsync(folder, cancellationToken)
                   ?? throw new IOException($"The folder of '{key}' was removed during the write."))
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

    /// <summary>A new temporary file in <paramref name="folder"/>, creating the folder. A delete that emptied the
    /// folder may remove it between the two steps; then it is created again.</summary>
    private static (FileStream Stream, string Path) CreateTemporaryFile(string folder)
    {
        var tempPath = Path.Join(folder, TempFilePrefix + Guid.NewGuid().ToString("N"));
        for (var attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(folder);
            try
            {
                return (new FileStream(tempPath, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    Share = FileShare.None,
                    Options = FileOptions.Asynchronous,
                    BufferSize = FileBufferSize,
                }), tempPath);
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
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
    /// <paramref name="after"/>, in ordinal key order, lazily: only the folders a page needs are read, and of a folder
    /// only the <paramref name="window"/> smallest children still to come are held at once (a folder of 40,000 shard
    /// outcomes is not held whole, nor sorted whole, for every page of 1,000).
    /// </summary>
    private IEnumerable<BlobEntry> ListOrdered(string folder, string prefix, string? after, int window)
    {
        var directory = folder.Length == 0 ? _root : Path.Join(_root, folder);
        string? cursor = null;
        while (true)
        {
            List<Child> children;
            bool more;
            try
            {
                (children, more) = SmallestChildren(directory, folder, prefix, after, cursor, window);
            }
            catch (DirectoryNotFoundException)
            {
                yield break; // emptied and removed since its parent was read (or never there)
            }

            foreach (var child in children)
            {
                if (!child.IsFolder)
                {
                    BlobEntry entry;
                    try
                    {
                        entry = EntryOf(child.SortKey, new FileInfo(Path.Join(directory, child.Name)));
                    }
                    catch (FileNotFoundException)
                    {
                        continue; // deleted since the folder was read
                    }

                    yield return entry;
                }
                else
                {
                    foreach (var entry in ListOrdered(child.SortKey[..^1], prefix, after, window))
                    {
                        yield return entry;
                    }
                }
            }

            if (!more)
            {
                yield break;
            }

            cursor = children[^1].SortKey;
        }
    }

    /// <summary>The <paramref name="window"/> smallest children of a folder (by sort key) that may hold keys of the
    /// listing and sort after <paramref name="cursor"/>, in order, and whether more follow them. A folder sorts as
    /// "name/" so that its keys land exactly where ordinal key order puts them ("a.txt" &lt; "a/b" because '.' &lt;
    /// '/', and "a/b" &lt; "a0").</summary>
    private static (List<Child> Children, bool More) SmallestChildren(
        string directory, string folder, string prefix, string? after, string? cursor, int window)
    {
        // A max-heap of the window: the largest sort key held is the first to give way to a smaller one.
        var heap = new PriorityQueue<Child, string>(window + 1, Comparer<string>.Create((x, y) => string.CompareOrdinal(y, x)));
        var more = false;
        var entries = new FileSystemEnumerable<Child?>(
            directory,
            (ref FileSystemEntry entry) =>
            {
                var name = entry.FileName.ToString();
                if (BlobKey.IsReservedName(name))
                {
                    return null;
                }

                var key = BlobKey.Join(folder, name);
                var child = entry.IsDirectory
                    // Symbolic links to folders are not followed: they could form cycles.
                    ? (entry.Attributes & FileAttributes.ReparsePoint) == 0 && MayHoldKeys(key + "/", prefix, after) ? new Child(key + "/", name, IsFolder: true) : null
                    : key.StartsWith(prefix, StringComparison.Ordinal) && (after is null || string.CompareOrdinal(key, after) > 0)
                        ? new Child(key, name, IsFolder: false)
                        : null;
                return child is not null && (cursor is null || string.CompareOrdinal(child.SortKey, cursor) > 0) ? child : null;
            },
            ListingOptions);
        foreach (var child in entries)
        {
            if (child is null)
            {
                continue;
            }

            if (heap.Count < window)
            {
                heap.Enqueue(child, child.SortKey);
            }
            else
            {
                more = true;
                if (string.CompareOrdinal(child.SortKey, heap.Peek().SortKey) < 0)
                {
                    heap.DequeueEnqueue(child, child.SortKey);
                }
            }
        }

        var children = new List<Child>(heap.Count);
        while (heap.TryDequeue(out var child, out _))
        {
            children.Add(child);
        }

        children.Reverse();
        return (children, more);
    }

    private sealed record Child(string SortKey, string Name, bool IsFolder);

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
}
