namespace EfficientNet.Batch.Models.Tests;

/// <summary>Locates the team's shared folder (spec and seed) by walking up from the test binaries.</summary>
internal static class SharedFolder
{
    public static string SeedFile => Path.Combine(Root, "seed", "000_bff07a05d0c50769.txt");

    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "seed")))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException($"No folder containing shared/seed above {AppContext.BaseDirectory}.");
        }
    }
}
