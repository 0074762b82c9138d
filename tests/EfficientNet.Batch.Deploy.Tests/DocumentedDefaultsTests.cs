using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>README's configuration table gives each setting's default; a default changed in code and not in the
/// README (or the reverse) fails here. Compared: the property's value on a new options object, as text.</summary>
public sealed partial class DocumentedDefaultsTests
{
    [Fact]
    public void Every_documented_default_is_the_options_class_default()
    {
        var rows = DocumentedDefaults();
        // The parse found the table (a scan that found nothing would pass vacuously).
        Assert.Contains(rows, r => r.Setting == "Inference:BatchSize");
        Assert.True(rows.Count >= 30, $"only {rows.Count} rows were read from README's configuration table");

        var problems = new List<string>();
        foreach (var (setting, documented) in rows)
        {
            var (section, key) = (setting.Split(':')[0], setting.Split(':')[1]);
            var type = OptionsCatalogue.Instance.Sections[section];
            var property = type.GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?? throw new InvalidOperationException($"{setting}: {type.Name} has no property {key}");
            var actual = Text(property.GetValue(Activator.CreateInstance(type)));
            if (!string.Equals(actual, documented, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{setting}: README says {documented}, {type.Name}.{property.Name} defaults to {actual ?? "null"}");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Theory]
    [InlineData("`Float32`", "Float32")]
    [InlineData("0 (= cores)", "0")]
    [InlineData("64 MiB", "67108864")]
    [InlineData("100,000,000", "100000000")]
    [InlineData("`effnet-state` (the coordinator's appsettings.json: `az://effnet-state`)", "effnet-state")]
    public void A_documented_default_is_read_as_its_value(string cell, string value) => Assert.Equal(value, Normalize(cell));

    /// <summary>(Section:Key, default) for each row whose first cell names one option and whose default is a value
    /// (not "—", "unset" or a description).</summary>
    private static List<(string Setting, string Default)> DocumentedDefaults()
    {
        var readme = Repository.Read("README.md");
        var table = readme[readme.IndexOf("## Configuration", StringComparison.Ordinal)..readme.IndexOf("## Deployment", StringComparison.Ordinal)];
        var rows = new List<(string, string)>();
        foreach (Match row in Row().Matches(table))
        {
            var setting = row.Groups["setting"].Value;
            if (!OptionsCatalogue.Instance.Sections.ContainsKey(setting.Split(':')[0]) || Normalize(row.Groups["default"].Value) is not { } value)
            {
                continue;
            }

            rows.Add((setting, value));
        }

        return rows;
    }

    private static string? Normalize(string cell)
    {
        var text = cell.Trim();
        var parenthesis = text.IndexOf(" (", StringComparison.Ordinal);
        text = (parenthesis > 0 ? text[..parenthesis] : text).Replace("`", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal).Trim();
        if (text.EndsWith(" MiB", StringComparison.Ordinal) && long.TryParse(text[..^4], CultureInfo.InvariantCulture, out var mebibytes))
        {
            return (mebibytes * 1024 * 1024).ToString(CultureInfo.InvariantCulture);
        }

        // No value to compare: none, a path resolved at run time, or a description.
        return text is "—" or "" || text.StartsWith("unset", StringComparison.Ordinal) || text.Contains(' ', StringComparison.Ordinal)
            || (text.Contains('/', StringComparison.Ordinal) && !text.Contains("://", StringComparison.Ordinal))
            ? null
            : text;
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        string s => s,
        IEnumerable e when !e.Cast<object>().Any() => "[]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    [GeneratedRegex(@"^\| `(?<setting>[A-Za-z]+:[A-Za-z]+)`[^|]*\| (?<default>[^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
