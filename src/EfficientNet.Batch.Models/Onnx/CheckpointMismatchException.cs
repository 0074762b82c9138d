namespace EfficientNet.Batch.Models.Onnx;

/// <summary>A tensor whose shape differs from the architecture's.</summary>
public sealed record ShapeMismatch(string Key, int[] Expected, int[] Actual)
{
    public override string ToString() => $"{Key}: expected [{string.Join(", ", Expected)}], got [{string.Join(", ", Actual)}]";
}

/// <summary>Weights that do not fit an architecture, with every problem found listed at once so a user fixing a
/// checkpoint sees the whole picture. Reusable by checkpoint importers.</summary>
public sealed class CheckpointMismatchException : Exception
{
    private const int ShownPerKind = 10;

    public CheckpointMismatchException(
        string target, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<ShapeMismatch> misShaped)
        : base(Describe(target, missing, unexpected, misShaped))
    {
        Target = target;
        Missing = missing;
        Unexpected = unexpected;
        MisShaped = misShaped;
    }

    /// <summary>What the weights were checked against, e.g. "efficientnet_b0 (arch b0)".</summary>
    public string Target { get; }

    public IReadOnlyList<string> Missing { get; }

    public IReadOnlyList<string> Unexpected { get; }

    public IReadOnlyList<ShapeMismatch> MisShaped { get; }

    private static string Describe(string target, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<ShapeMismatch> misShaped)
    {
        var text = new System.Text.StringBuilder($"Checkpoint does not match {target}:");
        Append(text, "missing", missing);
        Append(text, "unexpected", unexpected);
        Append(text, "wrong shape", misShaped.Select(m => m.ToString()).ToList());
        return text.ToString();
    }

    private static void Append(System.Text.StringBuilder text, string kind, IReadOnlyList<string> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        text.Append($" {items.Count} {kind} ({string.Join("; ", items.Take(ShownPerKind))}{(items.Count > ShownPerKind ? "; …" : "")}).");
    }
}
