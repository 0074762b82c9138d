using System.Text;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>One instruction of a Dockerfile, continuation lines joined, with the build stage it belongs to ("" before
/// the first FROM).</summary>
internal sealed record DockerInstruction(string Stage, string Keyword, string Arguments);

internal static class Dockerfile
{
    public static IReadOnlyList<DockerInstruction> Parse(string relativePath)
    {
        var instructions = new List<DockerInstruction>();
        var stage = "";
        var pending = new StringBuilder();
        foreach (var rawLine in Repository.Read(relativePath).Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            // Comment lines are dropped before parsing, also inside a continued instruction (parser directives too).
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending.Append(line.AsSpan(0, line.Length - 1)).Append(' ');
                continue;
            }

            pending.Append(line);
            var text = pending.ToString().Trim();
            pending.Clear();
            if (text.Length == 0)
            {
                continue;
            }

            var parts = text.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            var keyword = parts[0].ToUpperInvariant();
            var arguments = parts.Length > 1 ? parts[1].Trim() : "";
            if (keyword == "FROM")
            {
                var words = arguments.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                stage = words.Length >= 3 && words[^2].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[^1] : "";
            }

            instructions.Add(new DockerInstruction(stage, keyword, arguments));
        }

        return instructions;
    }

    /// <summary>The stage names, in file order.</summary>
    public static IReadOnlyList<string> Stages(IReadOnlyList<DockerInstruction> instructions) =>
        [.. instructions.Where(i => i.Keyword == "FROM").Select(i => i.Stage)];

    /// <summary>The words of an instruction's arguments (shell form), without flags' quotes.</summary>
    public static string[] Words(string arguments) =>
        arguments.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
