namespace EfficientNet.Batch.Components.Security;

/// <summary>
/// The path the operating system reaches for a path: every symbolic link among its existing components followed, the
/// way the kernel does when it opens it. Components that do not exist (yet) are kept as written, since nothing can
/// redirect them until they are created.
/// </summary>
internal static class RealPath
{
    // Linux's own limit (MAXSYMLINKS); a cycle of links ends here instead of looping.
    private const int MaxLinks = 40;

    private static readonly char[] Separators = ['/', Path.DirectorySeparatorChar];

    /// <summary>The real path of <paramref name="fullPath"/>, an absolute path already normalised by <see cref="Path.GetFullPath(string)"/>.
    /// Throws <see cref="IOException"/> when links loop.</summary>
    public static string Of(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath);
        if (string.IsNullOrEmpty(root))
        {
            throw new ArgumentException($"'{fullPath}' is not an absolute path.", nameof(fullPath));
        }

        return Walk(root, fullPath[root.Length..]);
    }

    /// <summary>The real path of <paramref name="relative"/> ('/'-separated) below <paramref name="realBase"/>, a real path already.</summary>
    public static string Below(string realBase, string relative) => Walk(realBase, relative);

    private static string Walk(string start, string relative)
    {
        var pending = new Stack<string>();
        PushComponents(pending, relative);
        var current = start;
        var links = 0;
        var exists = true;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                // Only link targets bring ".." here (the caller's path is normalised); the kernel applies it to the
                // link's resolved folder, and so does this.
                current = Path.GetDirectoryName(current) ?? current;
                exists = true;
                continue;
            }

            var next = Path.Join(current, part);
            var target = exists ? LinkTargetOf(next, out exists) : null;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new IOException($"Too many levels of symbolic links at '{next}'.");
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }

            // A relative target is relative to the link's folder, which is `current`.
            PushComponents(pending, target);
        }

        return current;
    }

    /// <summary>The target of the link at <paramref name="path"/>, or null when it is not a link;
    /// <paramref name="exists"/> is false once a component is missing (nothing below it can be a link).</summary>
    private static string? LinkTargetOf(string path, out bool exists)
    {
        exists = true;
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Missing, not a folder (ENOTDIR) or not searchable: the path goes no further on disk, and a process that
            // cannot look into a folder cannot follow a link inside it either.
            exists = false;
            return null;
        }
    }

    private static void PushComponents(Stack<string> pending, string path)
    {
        var parts = path.Split(Separators);
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }
}
