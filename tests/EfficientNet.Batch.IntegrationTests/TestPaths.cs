using EfficientNet.Batch.Testing;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>Finds the repository root and the shared test data (../shared beside the clone).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindUp(dir => File.Exists(Path.Combine(dir, "EfficientNet.Batch.sln")))
        ?? throw new InvalidOperationException("EfficientNet.Batch.sln not found above " + AppContext.BaseDirectory);

    public static string Samples => SharedTestFolder.Samples;

    public static string BadInputs => SharedTestFolder.BadInputs;

    /// <summary>Build configuration of this test assembly (Debug/Release), to find sibling hosts built the same way.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string HostAssembly(string project) =>
        Path.Combine(RepositoryRoot, "src", project, "bin", Configuration, "net10.0", project + ".dll");

    private static string? FindUp(Func<string, bool> predicate)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (predicate(dir.FullName))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
