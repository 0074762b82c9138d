namespace EfficientNet.Batch.Storage;

/// <summary>
/// The key rules both stores enforce, so that a key valid on one is valid on the other: '/'-separated
/// relative paths with no empty, "." or ".." segments, no backslashes, at most 1024 characters (Azure's
/// limit), and no segment starting with <see cref="ReservedSegmentPrefix"/> (the file-system store's
/// temporary and lock files live under such names).
/// </summary>
public static class BlobKey
{
    /// <summary>Names the file-system store uses for its own temporary and lock files; never a user key.</summary>
    public const string ReservedSegmentPrefix = ".~effnet";

    public const int MaxLength = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem when <paramref name="key"/> is not a valid object key.</summary>
    public static void Validate(string key, string paramName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (key.Length == 0)
        {
            throw new ArgumentException("An object key must not be empty.", paramName);
        }

        if (key.EndsWith('/'))
        {
            throw new ArgumentException($"Object key '{key}' must not end with '/': that names a folder, not an object.", paramName);
        }

        ValidateSegments(key, paramName);
    }

    /// <summary>Validates a listing prefix: empty, or a key-like path that may end with '/' and may end mid-name.</summary>
    public static void ValidatePrefix(string prefix, string paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (prefix.Length == 0)
        {
            return;
        }

        ValidateSegments(prefix.EndsWith('/') ? prefix[..^1] : prefix, paramName);
    }

    /// <summary>Joins a prefix (a folder, no trailing '/') and a relative key; either may be empty.</summary>
    public static string Join(string prefix, string relativeKey)
    {
        prefix = prefix.TrimEnd('/');
        if (prefix.Length == 0)
        {
            return relativeKey;
        }

        return relativeKey.Length == 0 ? prefix : prefix + "/" + relativeKey;
    }

    /// <summary>The folder part of a key ("" for a top-level key).</summary>
    public static string Parent(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash < 0 ? "" : key[..slash];
    }

    internal static bool IsReservedName(string fileName) => fileName.StartsWith(ReservedSegmentPrefix, StringComparison.Ordinal);

    private static void ValidateSegments(string path, string paramName)
    {
        if (path.Length > MaxLength)
        {
            throw new ArgumentException($"Object key '{path[..40]}…' is {path.Length} characters long; the limit is {MaxLength}.", paramName);
        }

        if (path.StartsWith('/'))
        {
            throw new ArgumentException($"Object key '{path}' must be relative (it starts with '/').", paramName);
        }

        if (path.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object key '{path}' contains '\\'; keys are '/'-separated.", paramName);
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object key '{path}' contains a NUL character.", paramName);
        }

        foreach (var segment in path.Split('/'))
        {
            switch (segment)
            {
                case "":
                    throw new ArgumentException($"Object key '{path}' has an empty segment ('//' or a leading '/').", paramName);
                case "." or "..":
                    throw new ArgumentException($"Object key '{path}' has a '{segment}' segment; keys may not leave or re-enter their root.", paramName);
                default:
                    if (IsReservedName(segment))
                    {
                        throw new ArgumentException($"Object key '{path}' uses the reserved name prefix '{ReservedSegmentPrefix}'.", paramName);
                    }

                    break;
            }
        }
    }
}
