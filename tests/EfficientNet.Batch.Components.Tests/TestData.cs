namespace EfficientNet.Batch.Components.Tests;

/// <summary>The shared test photos (../shared/data beside the clone) and scratch folders.</summary>
internal static class TestData
{
    public static string SharedData { get; } = FindSharedData();

    public static string Samples => Path.Combine(SharedData, "imagenet-samples");

    public static string BadInputs => Path.Combine(SharedData, "bad-inputs");

    public static IReadOnlyList<string> FirstPhotos(int count) =>
        Directory.GetFiles(Samples, "*.JPEG").Order(StringComparer.Ordinal).Take(count).ToList();

    /// <summary>A temp folder holding copies of the given files (optionally under a subfolder each).</summary>
    public static string DatasetOf(IEnumerable<(string Source, string RelativePath)> files)
    {
        var root = Directory.CreateTempSubdirectory("effnet-dataset-").FullName;
        foreach (var (source, relative) in files)
        {
            var target = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }

        return root;
    }

    private static string FindSharedData()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "imagenet-samples")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("../shared/data/imagenet-samples not found above " + AppContext.BaseDirectory);
    }
}
