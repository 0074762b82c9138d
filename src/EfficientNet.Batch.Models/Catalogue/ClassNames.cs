using System.Text;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>The class names of a custom model, one per head output in output order: read from the user's text file
/// (one name per line) and stored as <see cref="FileName"/> next to the model's weights.</summary>
public static class ClassNames
{
    /// <summary>The file in a custom model's store folder (and shared-store prefix) holding its class names.</summary>
    public const string FileName = "classes.txt";

    /// <summary>Reads a names file: UTF-8 (a BOM is allowed), one name per line, surrounding whitespace trimmed,
    /// blank lines at the end ignored.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ClassNamesException">A blank line among the names, a duplicate name, or fewer than two names.</exception>
    public static async Task<IReadOnlyList<string>> ReadFileAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist.", path);
        }

        return Parse(await File.ReadAllTextAsync(path, Encoding.UTF8, ct), Path.GetFileName(path));
    }

    /// <inheritdoc cref="ReadFileAsync"/>
    /// <param name="source">Named in errors, e.g. the file name.</param>
    public static IReadOnlyList<string> Parse(string text, string source)
    {
        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var blank = lines.FindIndex(l => l.Length == 0);
        if (blank >= 0)
        {
            throw new ClassNamesException($"{source}: line {blank + 1} is empty; give one class name per line, in the order of the model's outputs.");
        }

        var duplicate = lines.Select((name, line) => (name, line)).GroupBy(p => p.name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ClassNamesException(
                $"{source}: '{duplicate.Key}' appears more than once (lines {string.Join(", ", duplicate.Select(p => p.line + 1))}); every class needs its own name.");
        }

        if (lines.Count < Architecture.ArchSpec.MinClassCount)
        {
            throw new ClassNamesException($"{source} has {lines.Count} class name(s); a classifier needs at least {Architecture.ArchSpec.MinClassCount}.");
        }

        return lines;
    }

    /// <summary>The stored form: UTF-8 without BOM, one name per line, each line ending in <c>\n</c>. Its SHA-256 is
    /// what the model's manifest records.</summary>
    public static byte[] ToBytes(IReadOnlyList<string> names) => Encoding.UTF8.GetBytes(string.Concat(names.Select(n => n + "\n")));

    /// <summary>Reads the stored form back (see <see cref="ToBytes"/>).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a names list.</exception>
    public static IReadOnlyList<string> FromBytes(ReadOnlySpan<byte> bytes, string source)
    {
        try
        {
            return Parse(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes), source);
        }
        catch (Exception e) when (e is ClassNamesException or DecoderFallbackException)
        {
            throw new InvalidDataException($"{source} is not a stored class names list: {e.Message}", e);
        }
    }
}

/// <summary>A class names file that cannot be used: malformed, or not one name per output of the checkpoint's head.</summary>
public class ClassNamesException(string message) : Exception(message);

/// <summary>The names file and the checkpoint's head disagree on the number of classes.</summary>
public sealed class ClassCountMismatchException(string namesSource, int nameCount, int headOutputs, string headShape)
    : ClassNamesException(
        $"{namesSource} has {nameCount} class names, but the checkpoint's head has {headOutputs} outputs (head.fc.weight {headShape}); "
        + "give exactly one name per output, in output order.")
{
    public int NameCount { get; } = nameCount;

    public int HeadOutputs { get; } = headOutputs;
}
