using System.Diagnostics.CodeAnalysis;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary>
/// The output formats a job may ask for (<c>outputs: ["csv", "parquet"]</c>): the registered
/// <see cref="IOutputFormat"/>s named in <see cref="OutputFormats.All"/>. Files a job writes for other reasons (the
/// review queue) are registered formats too, but no request names them.
/// </summary>
public sealed class OutputFormatCatalog
{
    private readonly Dictionary<string, IOutputFormat> _byName;

    public OutputFormatCatalog(IEnumerable<IOutputFormat> formats)
    {
        var registered = formats.ToLookup(f => f.Name, StringComparer.OrdinalIgnoreCase);
        _byName = new Dictionary<string, IOutputFormat>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in OutputFormats.All)
        {
            if (registered[name].FirstOrDefault() is { } format)
            {
                _byName[name] = format;
            }
        }

        Names = [.. OutputFormats.All.Where(_byName.ContainsKey)];
    }

    /// <summary>The names a request may use, in the order of <see cref="OutputFormats.All"/>.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// The formats for <paramref name="names"/> (matched ignoring case, each once, in the order of
    /// <see cref="OutputFormats.All"/>); JSONL alone when <paramref name="names"/> is null or empty, as
    /// <see cref="OutputFormats.Of"/> decides.
    /// </summary>
    /// <param name="error">Why not, naming the first unknown format and the known ones.</param>
    public bool TryResolve(IEnumerable<string>? names, [NotNullWhen(true)] out IReadOnlyList<IOutputFormat>? formats, [NotNullWhen(false)] out string? error)
    {
        var asked = names?.ToList() ?? [];
        if (asked.Count == 0)
        {
            asked.Add(OutputFormats.Jsonl);
        }

        foreach (var name in asked)
        {
            if (string.IsNullOrWhiteSpace(name) || !_byName.ContainsKey(name))
            {
                formats = null;
                error = $"unknown output format '{name}'; known: {string.Join(", ", Names)}";
                return false;
            }
        }

        formats = [.. Names.Where(n => asked.Contains(n, StringComparer.OrdinalIgnoreCase)).Select(n => _byName[n])];
        error = null;
        return true;
    }

    /// <summary>As <see cref="TryResolve"/>, throwing for an unknown name.</summary>
    /// <exception cref="ArgumentException">A name is not a known output format; the message names the known ones.</exception>
    public IReadOnlyList<IOutputFormat> Resolve(IEnumerable<string>? names) =>
        TryResolve(names, out var formats, out var error) ? formats : throw new ArgumentException(error, nameof(names));
}
