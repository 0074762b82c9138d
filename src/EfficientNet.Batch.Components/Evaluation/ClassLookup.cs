using System.Globalization;
using System.Text;

namespace EfficientNet.Batch.Components.Evaluation;

/// <summary>Class names and indices a label may be written as (see <see cref="GroundTruth"/>'s remarks): an index in
/// range, a name exactly, ignoring case, or loosely ('_' as a space, any one of a name's comma-separated synonyms).
/// Used by <c>effnet evaluate</c> and by the coordinator for a job manifest's labels.</summary>
public sealed class ClassLookup
{
    private readonly int _count;
    private readonly Dictionary<string, List<int>> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _ignoringCase = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<int>> _loose = new(StringComparer.Ordinal);

    public ClassLookup(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        _count = classNames.Count;
        for (var index = 0; index < classNames.Count; index++)
        {
            var name = classNames[index];
            Add(_exact, name, index);
            Add(_ignoringCase, name, index);
            Add(_loose, Loose(name), index);
            foreach (var synonym in name.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                Add(_loose, Loose(synonym), index);
            }
        }
    }

    public bool TryResolve(string label, out int index, out string problem)
    {
        index = -1;
        label = label.Trim();
        if (label.Length == 0)
        {
            problem = "the label is empty";
            return false;
        }

        if (IsInteger(label))
        {
            if (long.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) && number >= 0 && number < _count)
            {
                index = (int)number;
                problem = "";
                return true;
            }

            problem = _count == 0
                ? $"class index {label} is out of range: no class names are known"
                : $"class index {label} is out of range 0..{_count - 1}";
            return false;
        }

        foreach (var (names, key) in new[] { (_exact, label), (_ignoringCase, label), (_loose, Loose(label)) })
        {
            if (!names.TryGetValue(key, out var found))
            {
                continue;
            }

            if (found.Count > 1)
            {
                problem = $"class name '{label}' is ambiguous: classes {string.Join(", ", found)} share it; write the class index";
                return false;
            }

            index = found[0];
            problem = "";
            return true;
        }

        problem = $"unknown class '{label}'";
        return false;
    }

    private static bool IsInteger(string text)
    {
        var digits = text.AsSpan(text[0] is '-' or '+' ? 1 : 0);
        return !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9');
    }

    private static void Add(Dictionary<string, List<int>> names, string key, int index)
    {
        if (key.Length == 0)
        {
            return;
        }

        if (!names.TryGetValue(key, out var indices))
        {
            names.Add(key, indices = []);
        }

        if (!indices.Contains(index))
        {
            indices.Add(index);
        }
    }

    /// <summary>Lower case, '_' as a space, runs of spaces as one, trimmed.</summary>
    private static string Loose(string name)
    {
        var loose = new StringBuilder(name.Length);
        foreach (var c in name.Trim())
        {
            var ch = c is '_' || char.IsWhiteSpace(c) ? ' ' : char.ToLowerInvariant(c);
            if (ch != ' ' || (loose.Length > 0 && loose[^1] != ' '))
            {
                loose.Append(ch);
            }
        }

        return loose.ToString().TrimEnd();
    }
}
