using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace EfficientNet.Batch.Storage;

/// <summary>One line of a manifest: an image path relative to the manifest's folder and an optional label.</summary>
public sealed record ManifestEntry(string Path, int? Label, int LineNumber);

/// <summary>
/// Reads dataset manifests (<c>.txt</c>, <c>.csv</c>, <c>.lst</c>): every line is a CSV record <c>path[,label]</c>,
/// so a plain list of paths is the one-column case.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Blank lines and lines whose first non-blank character is '#' are skipped (quote a path that starts with '#').</item>
/// <item>Fields may be quoted with '"' (a doubled quote inside is a literal quote), so paths may contain commas;
/// unquoted fields are trimmed. Apostrophes need no quoting.</item>
/// <item>The first record is a header, and skipped, when it has a second field that is not an integer ("path,label").</item>
/// <item>The label is a non-negative integer or empty; columns after the second are ignored.</item>
/// <item>Paths are '/'-separated and relative to the manifest's folder; a leading "./" is dropped. Absolute paths,
/// ".." segments and backslashes are rejected.</item>
/// </list>
/// Malformed lines throw <see cref="InvalidDataException"/> naming the manifest and the line.
/// </remarks>
public static class ManifestParser
{
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
            var labelText = fields.Count > 1 ? fields[1] : "";
            if (isFirstRecord && labelText.Length > 0 && !int.TryParse(labelText, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                continue; // header
            }

            yield return new ManifestEntry(ParsePath(fields[0], manifestName, lineNumber), ParseLabel(labelText, manifestName, lineNumber), lineNumber);
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

    private static int? ParseLabel(string text, string manifestName, int lineNumber)
    {
        if (text.Length == 0)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var label))
        {
            throw Malformed(manifestName, lineNumber, $"label '{text}' is not a non-negative integer (quote paths that contain commas)");
        }

        return label;
    }

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
