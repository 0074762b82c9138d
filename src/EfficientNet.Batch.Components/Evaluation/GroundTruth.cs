using System.Globalization;
using CsvHelper;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Evaluation;

/// <summary>
/// Ground-truth labels of a dataset, as image path → class index: from a CSV manifest <c>path,label</c>, or from a
/// folder with one sub-folder per class (the ImageFolder layout).
/// </summary>
/// <remarks>
/// <para>Paths are compared ordinally after '\' becomes '/' and a leading "./" is dropped (<see cref="PathComparer"/>),
/// so the dictionaries answer a record's path however it was written.</para>
/// <para>A label (a CSV field or a class folder's name) is a class index within the class list, or a class name,
/// matched exactly, then ignoring case, then loosely: ignoring case, with '_' the same as a space, against the whole
/// name or any of its comma-separated synonyms ("great white shark" finds <c>great_white_shark</c>). A name that
/// several classes share (ImageNet has two <c>crane</c>s) is ambiguous; an unknown name, an ambiguous one or an
/// index out of range is an <see cref="InvalidDataException"/> that names the line or folder, never a dropped label.</para>
/// </remarks>
public static class GroundTruth
{
    /// <summary>Compares image paths as <see cref="NormalizePath"/> writes them, ordinally.</summary>
    public static IEqualityComparer<string> PathComparer { get; } = new NormalizedPathComparer();

    /// <summary>Labels from <paramref name="pathOrDirectory"/>: a class-folder layout when it is a directory, else a
    /// CSV manifest.</summary>
    /// <exception cref="InvalidDataException">A label is unknown, ambiguous or out of range, or the CSV is malformed.</exception>
    /// <exception cref="IOException">The file or folder cannot be read (<see cref="FileNotFoundException"/> when missing).</exception>
    public static IReadOnlyDictionary<string, int> Load(string pathOrDirectory, IReadOnlyList<string> classNames)
    {
        if (Directory.Exists(pathOrDirectory))
        {
            return FromClassFolders(pathOrDirectory, classNames);
        }

        return File.Exists(pathOrDirectory)
            ? ReadCsv(pathOrDirectory, classNames)
            : throw new FileNotFoundException($"{pathOrDirectory} is neither a labels file nor a class folder.", pathOrDirectory);
    }

    /// <summary>Reads a CSV manifest file; see <see cref="ReadCsv(TextReader, IReadOnlyList{string}, string)"/>.</summary>
    public static IReadOnlyDictionary<string, int> ReadCsv(string file, IReadOnlyList<string> classNames)
    {
        using var stream = File.OpenRead(file);
        using var reader = CsvReader.Create(stream, CsvOptions, leaveOpen: false);
        return ReadCsv(reader, new ClassLookup(classNames), file);
    }

    /// <summary>
    /// Reads a CSV manifest: one record <c>path,label</c> per line (RFC 4180: a field with commas, quotes or line
    /// breaks is quoted, a quote inside doubled); columns after the second are ignored. A first record whose first field is
    /// <c>path</c>, <c>file</c>, <c>filename</c> or <c>image</c> is a header. Blank lines
    /// and lines starting with '#' are skipped; spaces around unquoted fields are trimmed.
    /// </summary>
    /// <param name="source">What error messages call the input (its file name).</param>
    /// <exception cref="InvalidDataException">A record is malformed, has fewer than two fields, repeats a path or has
    /// an unknown, ambiguous or out-of-range label: the message names <paramref name="source"/> and the line.</exception>
    public static IReadOnlyDictionary<string, int> ReadCsv(TextReader text, IReadOnlyList<string> classNames, string source)
    {
        using var reader = CsvReader.Create(text, CsvOptions, leaveOpen: true);
        return ReadCsv(reader, new ClassLookup(classNames), source);
    }

    /// <summary>
    /// Labels of a folder-per-class layout: every immediate sub-folder of <paramref name="root"/> is a class (its name
    /// a class name or index), and every image under it (at any depth) gets that label, keyed by its path relative
    /// to <paramref name="root"/> with '/' separators. Hidden folders and files (".name") are left out, as are files
    /// directly under <paramref name="root"/> and files that are not images
    /// (<see cref="DatasetReader.ImageExtensions"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A sub-folder's name is not a class.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    public static IReadOnlyDictionary<string, int> FromClassFolders(string root, IReadOnlyList<string> classNames)
    {
        var lookup = new ClassLookup(classNames);
        var labels = new Dictionary<string, int>(PathComparer);
        var visible = new EnumerationOptions { AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        var everything = new EnumerationOptions { AttributesToSkip = FileAttributes.Hidden | FileAttributes.System, RecurseSubdirectories = true };
        foreach (var folder in Directory.EnumerateDirectories(root, "*", visible).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith('.'))
            {
                continue;
            }

            if (!lookup.TryResolve(name, out var label, out var problem))
            {
                throw new InvalidDataException($"{root}: class folder '{name}': {problem}.");
            }

            foreach (var file in Directory.EnumerateFiles(folder, "*", everything))
            {
                if (DatasetReader.ImageExtensions.Contains(Path.GetExtension(file)))
                {
                    labels.Add(NormalizePath(Path.GetRelativePath(root, file)), label);
                }
            }
        }

        return labels;
    }

    /// <summary>A path as labels are keyed: '\' replaced by '/', leading "./" removed.</summary>
    public static string NormalizePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\\', StringComparison.Ordinal))
        {
            path = path.Replace('\\', '/');
        }

        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        return path;
    }

    private static CsvReaderOptions CsvOptions { get; } = CsvReaderOptions.Default with
    {
        HasHeader = false,
        Separator = ',',
        Mode = CsvMode.Rfc4180,
        CommentPrefix = '#',
        TrimWhitespace = true,
        TrackLineNumbers = true,
        MalformedData = CsvMalformedDataHandling.Throw,
    };

    /// <summary>First fields that make the first record a header (<c>path,label</c>, <c>file,class_index</c>, …).</summary>

    private static Dictionary<string, int> ReadCsv(CsvReader reader, ClassLookup lookup, string source)
    {
        var labels = new Dictionary<string, int>(PathComparer);
        var lines = new Dictionary<string, long>(PathComparer);
        try
        {
            while (reader.Read())
            {
                var line = reader.LineNumber;
                if (reader.FieldCount < 2)
                {
                    throw Malformed(source, line, $"{reader.FieldCount} field where 2 ('path,label') are expected");
                }

                // Columns after the second are ignored (as in dataset manifests), e.g. labels.csv's wnid,class_name.
                var path = reader.GetString(0);
                var labelText = reader.GetString(1);
                if (reader.RowNumber == 1 && ManifestParser.HeaderNames.Contains(path))
                {
                    continue;
                }

                path = NormalizePath(path);
                if (path.Length == 0)
                {
                    throw Malformed(source, line, "the path is empty");
                }

                if (!lookup.TryResolve(labelText, out var label, out var problem))
                {
                    throw Malformed(source, line, problem);
                }

                if (!lines.TryAdd(path, line))
                {
                    throw Malformed(source, line, $"'{path}' is already labelled on line {lines[path]}");
                }

                labels.Add(path, label);
            }
        }
        catch (CsvFormatException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }

        return labels;
    }

    private static InvalidDataException Malformed(string source, long line, string problem) =>
        new($"{source} line {line.ToString(CultureInfo.InvariantCulture)}: {problem}.");

    private sealed class NormalizedPathComparer : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y) =>
            x is null || y is null ? ReferenceEquals(x, y) : string.Equals(NormalizePath(x), NormalizePath(y), StringComparison.Ordinal);

        public int GetHashCode(string obj) => NormalizePath(obj).GetHashCode(StringComparison.Ordinal);
    }
}
