namespace EfficientNet.Batch.StartupProfile;

/// <summary>A type as the JIT names it: <c>System.Collections.Generic.Dictionary`2[System.__Canon,int]</c>, nested types
/// joined by <c>+</c>, primitives by their short names (<c>int</c>, <c>ubyte</c>, <c>nint</c>, <c>byref</c>).</summary>
public sealed record JitTypeName(string Name, IReadOnlyList<JitTypeName> Arguments)
{
    public static JitTypeName Parse(string text)
    {
        text = text.Trim();
        var arrays = 0;
        while (text.EndsWith("[]", StringComparison.Ordinal))
        {
            text = text[..^2];
            arrays++;
        }

        var open = text.IndexOf('[', StringComparison.Ordinal);
        var type = open < 0
            ? new JitTypeName(text, [])
            : new JitTypeName(text[..open], ParseList(text[(open + 1)..text.LastIndexOf(']')]));
        for (var i = 0; i < arrays; i++)
        {
            type = new JitTypeName("[]", [type]);
        }

        return type;
    }

    /// <summary>A comma-separated list at bracket depth zero.</summary>
    public static IReadOnlyList<JitTypeName> ParseList(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var items = new List<JitTypeName>();
        int depth = 0, start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '[': depth++; break;
                case ']': depth--; break;
                case ',' when depth == 0:
                    items.Add(Parse(text[start..i]));
                    start = i + 1;
                    break;
            }
        }

        items.Add(Parse(text[start..]));
        return items;
    }

    public override string ToString() =>
        Name == "[]" ? $"{Arguments[0]}[]" : Arguments.Count == 0 ? Name : $"{Name}[{string.Join(",", Arguments)}]";
}

/// <summary>One line of the JIT's method summary (<c>DOTNET_JitStdOutFile</c> with <c>DOTNET_JitDisasmSummary=1</c>):
/// <c>Type:Method[MethodArguments](Parameters)</c>.</summary>
public sealed record JitMethodName(
    JitTypeName DeclaringType, string Name, IReadOnlyList<JitTypeName> MethodArguments, IReadOnlyList<JitTypeName> Parameters)
{
    private const string Compiled = "JIT compiled ";

    /// <summary>The method a summary line names, or null for a line that names none or names an IL stub, which has no
    /// metadata to point at.</summary>
    public static JitMethodName? FromSummaryLine(string line)
    {
        var at = line.IndexOf(Compiled, StringComparison.Ordinal);
        var text = at < 0 ? line.Trim() : line[(at + Compiled.Length)..];
        var tier = text.LastIndexOf(" [", StringComparison.Ordinal);
        if (tier > 0)
        {
            text = text[..tier];
        }

        return text.Length == 0 || text.StartsWith("(dynamicClass)", StringComparison.Ordinal) ? null : Parse(text);
    }

    public static JitMethodName? Parse(string text)
    {
        var colon = -1;
        var depth = 0;
        for (var i = 0; i < text.Length && colon < 0; i++)
        {
            switch (text[i])
            {
                case '[': depth++; break;
                case ']': depth--; break;
                case ':' when depth == 0: colon = i; break;
            }
        }

        var parameters = text.LastIndexOf('(');
        if (colon < 0 || parameters < colon || !text.EndsWith(')'))
        {
            return null;
        }

        var name = text[(colon + 1)..parameters];
        IReadOnlyList<JitTypeName> methodArguments = [];
        if (name.EndsWith(']'))
        {
            var open = MatchingOpen(name);
            methodArguments = JitTypeName.ParseList(name[(open + 1)..^1]);
            name = name[..open];
        }

        return new JitMethodName(
            JitTypeName.Parse(text[..colon]), name, methodArguments, JitTypeName.ParseList(text[(parameters + 1)..^1]));
    }

    private static int MatchingOpen(string text)
    {
        var depth = 0;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            if (text[i] == ']')
            {
                depth++;
            }
            else if (text[i] == '[' && --depth == 0)
            {
                return i;
            }
        }

        throw new FormatException($"Unbalanced brackets in '{text}'.");
    }

    public override string ToString()
    {
        var arguments = MethodArguments.Count == 0 ? "" : $"[{string.Join(",", MethodArguments)}]";
        return $"{DeclaringType}:{Name}{arguments}({string.Join(",", Parameters)})";
    }
}
