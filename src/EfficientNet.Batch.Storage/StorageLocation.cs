using System.Text.RegularExpressions;

namespace EfficientNet.Batch.Storage;

public enum StorageScheme
{
    /// <summary>A folder or file of the local file system.</summary>
    FileSystem,

    /// <summary>A container of the Azure Storage account given by <see cref="StorageOptions.AzureConnectionString"/>.</summary>
    Azure,
}

/// <summary>
/// A parsed storage location string. Accepted forms:
/// <list type="bullet">
/// <item><c>az://container</c> or <c>az://container/some/prefix</c>: Azure Blob Storage (account from configuration);</item>
/// <item><c>file:///absolute/path</c>: the local file system (the path is taken literally, not percent-decoded);</item>
/// <item>any other string without a scheme: a local path, absolute or relative to the current directory.</item>
/// </list>
/// For Azure, <see cref="Container"/> is the container and <see cref="Prefix"/> the key prefix (no leading or
/// trailing '/'). For the file system, <see cref="Container"/> is the absolute path and <see cref="Prefix"/> is
/// empty: whether that path is a folder or a file is decided by the resolver, which looks at the disk.
/// </summary>
public sealed partial record StorageLocation(StorageScheme Scheme, string Container, string Prefix)
{
    public const string AzureSchemePrefix = "az://";
    public const string FileSchemePrefix = "file://";

    /// <summary>Parses <paramref name="location"/>; relative paths resolve against <paramref name="currentDirectory"/>
    /// (default: the process's current directory). Throws <see cref="ArgumentException"/> saying which forms are accepted.</summary>
    public static StorageLocation Parse(string location, string? currentDirectory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (location.StartsWith(AzureSchemePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return ParseAzure(location);
        }

        if (location.StartsWith(FileSchemePrefix, StringComparison.OrdinalIgnoreCase))
        {
            var path = location[FileSchemePrefix.Length..];
            if (!path.StartsWith('/'))
            {
                throw new ArgumentException(
                    $"Storage location '{location}' is not a local file URI: use file:///absolute/path (three slashes).", nameof(location));
            }

            // file:///C:/data on Windows: drop the slash in front of the drive letter.
            if (path.Length >= 3 && path[2] == ':' && char.IsAsciiLetter(path[1]))
            {
                path = path[1..];
            }

            return FileSystem(path, currentDirectory);
        }

        if (SchemeLike().IsMatch(location))
        {
            throw new ArgumentException(
                $"Storage location '{location}' has an unsupported scheme: use az://container/prefix, file:///absolute/path or a local path.",
                nameof(location));
        }

        return FileSystem(location, currentDirectory);
    }

    /// <summary>The location of <paramref name="relativeKey"/> under this one.</summary>
    public StorageLocation Append(string relativeKey)
    {
        BlobKey.ValidatePrefix(relativeKey, nameof(relativeKey));
        var relative = relativeKey.TrimEnd('/');
        return Scheme == StorageScheme.Azure
            ? this with { Prefix = BlobKey.Join(Prefix, relative) }
            : this with { Container = relative.Length == 0 ? Container : Path.Join(Container, relative) };
    }

    /// <summary>Appends <paramref name="relativeKey"/> to a location string and renders the result canonically,
    /// e.g. <c>Combine("az://results/job-1", "summary.json")</c> is <c>az://results/job-1/summary.json</c>.</summary>
    public static string Combine(string location, string relativeKey) => Parse(location).Append(relativeKey).ToString();

    /// <summary>The canonical string form, which <see cref="Parse"/> reads back to an equal value.</summary>
    public override string ToString()
    {
        if (Scheme == StorageScheme.Azure)
        {
            return Prefix.Length == 0 ? AzureSchemePrefix + Container : $"{AzureSchemePrefix}{Container}/{Prefix}";
        }

        var path = Container.Replace('\\', '/');
        return FileSchemePrefix + (path.StartsWith('/') ? path : "/" + path);
    }

    private static StorageLocation ParseAzure(string location)
    {
        var rest = location[AzureSchemePrefix.Length..];
        var slash = rest.IndexOf('/');
        var container = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].TrimEnd('/');
        if (!ContainerName().IsMatch(container) || container.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Storage location '{location}' does not name a valid Azure container ('{container}'): use az://container/prefix, where the " +
                "container has 3-63 lowercase letters, digits and single hyphens, starting with a letter or digit.",
                nameof(location));
        }

        if (prefix.Length > 0)
        {
            try
            {
                BlobKey.ValidatePrefix(prefix, nameof(location));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Storage location '{location}' has an invalid prefix: {e.Message}", nameof(location), e);
            }
        }

        return new StorageLocation(StorageScheme.Azure, container, prefix);
    }

    private static StorageLocation FileSystem(string path, string? currentDirectory)
    {
        var full = Path.GetFullPath(path, currentDirectory ?? Environment.CurrentDirectory);
        return new StorageLocation(StorageScheme.FileSystem, Path.TrimEndingDirectorySeparator(full), "");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerName();

    // "s3://…", "https://…"; a Windows drive ("C:\…") has a single letter and no "//".
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]+://")]
    private static partial Regex SchemeLike();
}
