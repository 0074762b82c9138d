namespace EfficientNet.Batch.Testing;

/// <summary>
/// Finds the team's shared folder (<c>../shared</c> beside the clone: spec, seed and test photos, never copied into the
/// repository) by walking up from the test binaries. Compiled into every test project (tests/Directory.Build.props).
/// A missing folder fails the test loudly: silently skipping would hide that the tests did not run.
/// </summary>
internal static class SharedTestFolder
{
    private static readonly Lazy<string> RootFolder = new(Find);

    public static string Root => RootFolder.Value;

    public static string Data => Path.Combine(Root, "data");

    public static string Samples => Path.Combine(Data, "imagenet-samples");

    public static string BadInputs => Path.Combine(Data, "bad-inputs");

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "data")) || Directory.Exists(Path.Combine(candidate, "seed")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No folder 'shared' (with data/ or seed/) above {AppContext.BaseDirectory}; the tests need the shared test data.");
    }
}
