namespace EfficientNet.Batch.Models;

/// <summary>The 1000 ImageNet-1k classes in model output order, from the embedded <c>imagenet-classes.tsv</c>.</summary>
public static class ImageNetClasses
{
    private const string ResourceName = "imagenet-classes.tsv";

    private static readonly Lazy<(string[] Wnids, string[] Names)> Table = new(Load);

    /// <summary>WordNet ids (n01440764 …), index = class index.</summary>
    public static IReadOnlyList<string> Wnids => Table.Value.Wnids;

    /// <summary>Human-readable names (tench …), index = class index.</summary>
    public static IReadOnlyList<string> Names => Table.Value.Names;

    private static (string[] Wnids, string[] Names) Load()
    {
        using var stream = typeof(ImageNetClasses).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from {typeof(ImageNetClasses).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        var wnids = new List<string>(1000);
        var names = new List<string>(1000);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0)
            {
                throw new InvalidDataException($"{ResourceName} line {wnids.Count + 1} is not 'wnid<TAB>name': '{line}'.");
            }

            wnids.Add(line[..tab]);
            names.Add(line[(tab + 1)..]);
        }

        if (wnids.Count != Architecture.ArchSpec.ImageNetClassCount)
        {
            throw new InvalidDataException($"{ResourceName} has {wnids.Count} classes, expected {Architecture.ArchSpec.ImageNetClassCount}.");
        }

        return ([.. wnids], [.. names]);
    }
}
