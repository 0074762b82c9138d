using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Storage;

/// <summary>
/// Exclusive lock on one folder of <see cref="FileSystemBlobStore"/>, across threads and processes: an in-process gate,
/// then flock(LOCK_EX) on the folder itself.
/// </summary>
/// <remarks>
/// <para>On Linux and macOS the folder's own descriptor is locked, so no lock file is ever created: a copied dataset or
/// a job's output folder holds the objects and nothing else. The kernel drops the lock when its holder dies, so a crash
/// cannot leave a stale lock, and the lock is on the folder's inode, which exists exactly as long as the folder: a
/// folder is only removed when it is empty (see <see cref="FileSystemBlobStore.DeleteAsync"/>), and an empty folder
/// has no write in flight, because a write puts its temporary file in the folder before it takes the lock.</para>
/// <para>Windows cannot open a folder for locking, so there the lock is a hidden <c>.~effnet.lock</c> file in the
/// folder, opened with <see cref="FileShare.None"/>, and never deleted (two processes could otherwise lock two
/// different files of the same name).</para>
/// </remarks>
internal sealed partial class FolderLock : IDisposable
{
    internal const string WindowsLockFileName = BlobKey.ReservedSegmentPrefix + ".lock";

    // Threads of one process queue on a gate instead of polling flock.
    private static readonly SemaphoreSlim[] Gates = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private readonly SemaphoreSlim _gate;
    private readonly IDisposable _held;

    private FolderLock(SemaphoreSlim gate, IDisposable held)
    {
        _gate = gate;
        _held = held;
    }

    /// <summary>Waits for the lock on <paramref name="folder"/>. Returns null when the folder does not exist (it was
    /// removed, or never created): there is nothing in it to guard.</summary>
    public static async Task<FolderLock?> AcquireAsync(string folder, CancellationToken cancellationToken)
    {
        var gate = Gates[(StringComparer.Ordinal.GetHashCode(folder) & int.MaxValue) % Gates.Length];
        await gate.WaitAsync(cancellationToken);
        try
        {
            var delayMs = 1;
            while (true)
            {
                switch (TryLock(folder))
                {
                    case { } held:
                        return new FolderLock(gate, held);
                    case null when !Directory.Exists(folder):
                        gate.Release();
                        return null;
                }

                // Another process holds it; flock has no async wait, so back off and retry.
                await Task.Delay(delayMs, cancellationToken);
                delayMs = Math.Min(delayMs * 2, 50);
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
        _held.Dispose();
        _gate.Release();
    }

    /// <summary>The held lock, or null when another process holds it or the folder is gone.</summary>
    private static IDisposable? TryLock(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                return new FileStream(Path.Join(folder, WindowsLockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e.HResult == unchecked((int)0x80070020) || e is DirectoryNotFoundException)
            {
                return null; // ERROR_SHARING_VIOLATION: held elsewhere
            }
        }

        var descriptor = Native.Open(folder, Native.ReadOnly | Native.CloseOnExec);
        if (descriptor < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error == Native.NoSuchFile
                ? null
                : throw new IOException($"Cannot open folder '{folder}' to lock it (errno {error}).", error);
        }

        if (Native.Flock(descriptor, Native.LockExclusive | Native.LockNonBlocking) == 0)
        {
            return new Descriptor(descriptor);
        }

        var lockError = Marshal.GetLastPInvokeError();
        _ = Native.Close(descriptor);
        return lockError is Native.WouldBlockLinux or Native.WouldBlockMac
            ? null
            : throw new IOException($"Cannot lock folder '{folder}' (errno {lockError}).", lockError);
    }

    /// <summary>An open folder descriptor; closing it releases the flock.</summary>
    private sealed class Descriptor(int value) : IDisposable
    {
        public void Dispose() => _ = Native.Close(value);
    }

    private static partial class Native
    {
        public const int ReadOnly = 0;
        public static readonly int CloseOnExec = OperatingSystem.IsMacOS() ? 0x1000000 : 0x80000; // O_CLOEXEC
        public const int LockExclusive = 2;
        public const int LockNonBlocking = 4;
        public const int NoSuchFile = 2; // ENOENT
        public const int WouldBlockLinux = 11; // EWOULDBLOCK
        public const int WouldBlockMac = 35;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        public static partial int Flock(int descriptor, int operation);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int descriptor);
    }
}
