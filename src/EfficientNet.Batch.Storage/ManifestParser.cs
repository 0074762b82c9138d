using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace EfficientNet.Batch.Storage;

/// <summary>One line of a manifest: an image path relative to the manifest's folder and an optional label, written
/// as a class index (<see cref="Label"/>) or as anything else (<see cref="LabelName"/>: a class name, resolved against
/// the job's model when the dataset is listed).</summary>
public sealed record ManifestEntry(string Path, int? Label, int LineNumber, string? LabelName = null);

/// <summary>
/// Reads dataset manifests (<c>.txt</c>, <c>.csv</c>, <c>.lst</c>): every line is a CSV record <c>path[,label]</c>,
/// so a plain list of paths is the one-column case.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Blank lines and lines whose first non-blank character is '#' are skipped (quote a path that starts with '#').</item>
/// <item>Fields may be quoted with '"' (a doubled quote inside is a literal quote), so paths may contain commas;
/// unquoted fields are trimmed. Apostrophes need no quoting.</item>
/// <item>The first record is a header, and skipped, when its first field is a column name: <see cref="HeaderNames"/>
/// ("path,label", "file,class"). It is recognised by that name, never guessed from its label, so "img.jpg,tench" is data.</item>
/// <item>The label is a non-negative integer (<see cref="ManifestEntry.Label"/>), any other text
/// (<see cref="ManifestEntry.LabelName"/>), or empty; columns after the second are ignored.</item>
/// <item>Paths are '/'-separated and relative to the manifest's folder; a leading "./" is dropped. Absolute paths,
/// ".." segments and backslashes are rejected.</item>
/// </list>
/// Malformed lines throw <see cref="InvalidDataException"/> naming the manifest and the line.
/// </remarks>
public static class ManifestParser
{
    /// <summary>First fields that make the first record a header (any case).</summary>
    public static readonly IReadOnlySet<string> HeaderNames =
        new HashSet<string>(["path", "file", "filename", "image", "image_path", "filepath"], StringComparer.OrdinalIgnoreCase);

    public static async IAsyncEnumerable<ManifestEntry> ReadAsync(
        TextReader reader, string manifestName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var lineNumber = 0;
        var sawRecord = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            var trimmed = line.AsSpan().Trim();
            if (trimmed.IsEmpty || trimmed[0] == '#')
            {
                continue;
            }

            var fields = SplitFields(line, manifestName, lineNumber);
            var isFirstRecord = !sawRecord;
            sawRecord = true;
            if (isFirstRecord && HeaderNames.Contains(fields[0]))
            {
                continue; // header
            }

            var labelText = fields.Count > 1 ? fields[1] : "";
            var label = ParseLabel(labelText);
            yield return new ManifestEntry(
                ParsePath(fields[0], manifestName, lineNumber), label, lineNumber, label is null && labelText.Length > 0 ? labelText : null);
        }
    }

    private static string ParsePath(string path, string manifestName, int lineNumber)
    {
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        if (path.Length == 0)
        {
            throw Malformed(manifestName, lineNumber, "the path is empty");
        }

        try
        {
            BlobKey.Validate(path, nameof(path));
        }
        catch (ArgumentException e)
        {
            throw Malformed(manifestName, lineNumber, $"'{path}' is not a path relative to the manifest's folder ({e.Message})");
        }

        return path;
    }

    /// <summary>The class index a label is written as; null for an empty label or any other text (a name).</summary>
    private static int? ParseLabel(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var label) ? label : null;

    private static List<string> SplitFields(string line, string manifestName, int lineNumber)
    {
        var fields = new List<string>(2);
        var field = new StringBuilder();
        var position = 0;
        while (true)
        {
            while (position < line.Length && line[position] is ' ' or '\t')
            {
                position++;
            }

            if (position < line.Length && line[position] == '"')
            {
                position++;
                while (true)
                {
                    if (position >= line.Length)
                    {
                        throw Malformed(manifestName, lineNumber, "a quoted field is not closed");
                    }

                    if (line[position] == '"')
                    {
                        if (position + 1 < line.Length && line[position + 1] == '"')
                        {
                            field.Append('"');
                            position += 2;
                            continue;
                        }

                        position++;
                        break;
                    }

                    field.Append(line[position++]);
                }

                while (position < line.Length && line[position] is ' ' or '\t')
                {
                    position++;
                }

                if (position < line.Length && line[position] != ',')
                {
                    throw Malformed(manifestName, lineNumber, "unexpected text after a closing quote");
                }

                fields.Add(field.ToString());
            }
            else
            {
                var comma = line.IndexOf(',', position);
                var end = comma < 0 ? line.Length : comma;
                fields.Add(line[position..end].Trim());
                position = end;
            }

            field.Clear();
            if (position >= line.Length)
            {
                return fields;
            }

            position++; // the comma
        }
    }

    private static InvalidDataException Malformed(string manifestName, int lineNumber, string problem) =>
        new($"Manifest '{manifestName}', line {lineNumber}: {problem}.");
}
