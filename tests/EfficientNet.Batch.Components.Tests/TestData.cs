using EfficientNet.Batch.Testing;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>The shared test photos (../shared/data beside the clone) and scratch folders.</summary>
internal static class TestData
{
    public static string Samples => SharedTestFolder.Samples;

    public static string BadInputs => SharedTestFolder.BadInputs;

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
}
