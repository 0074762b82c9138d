using System.Text.RegularExpressions;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>Helm templates read as text: which <c>if</c>/<c>with</c>/<c>range</c> blocks enclose a line.</summary>
internal static partial class TemplateText
{
    /// <summary>The open blocks, outermost first (e.g. <c>if $gpu</c>), at the first occurrence of <paramref name="needle"/>.</summary>
    public static IReadOnlyList<string> ConditionsAt(string template, string needle)
    {
        var position = template.IndexOf(needle, StringComparison.Ordinal);
        Assert.True(position >= 0, $"'{needle}' is not in the template.");
        var open = new List<string>();
        foreach (Match action in Action().Matches(template[..position]))
        {
            var keyword = action.Groups["keyword"].Value;
            var argument = action.Groups["argument"].Value.Trim();
            switch (keyword)
            {
                case "end":
                    open.RemoveAt(open.Count - 1);
                    break;
                case "else":
                    open[^1] = argument.Length == 0 ? $"else of {open[^1]}" : $"else {argument} (after {open[^1]})";
                    break;
                default:
                    open.Add($"{keyword} {argument}");
                    break;
            }
        }

        return open;
    }

    [GeneratedRegex(@"\{\{-?\s*(?<keyword>if|with|range|define|else|end)\b(?<argument>.*?)-?\}\}", RegexOptions.Singleline)]
    private static partial Regex Action();
}
