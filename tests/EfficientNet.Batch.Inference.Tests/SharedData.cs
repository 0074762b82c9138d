namespace EfficientNet.Batch.Inference.Tests;

/// <summary>Locates the team's shared test data (…/shared/data), which is never copied into the repository.</summary>
internal static class SharedData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string SamplesDirectory => Path.Combine(Root.Value, "imagenet-samples");

    public static string BadInputsDirectory => Path.Combine(Root.Value, "bad-inputs");

    public static string Sample(string fileName) => Path.Combine(SamplesDirectory, fileName);

    public static string BadInput(string fileName) => Path.Combine(BadInputsDirectory, fileName);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        // Fail loudly: silently skipping would hide that the decode tests did not run.
        throw new DirectoryNotFoundException(
            $"No folder 'shared/data' above {AppContext.BaseDirectory}; the preprocessing tests need the shared test images.");
    }
}
