using EfficientNet.Batch.Testing;

namespace EfficientNet.Batch.Models.Tests;

/// <summary>Locates the team's shared folder (spec and seed) by walking up from the test binaries.</summary>
internal static class SharedFolder
{
    public static string SeedFile => Path.Combine(Root, "seed", "000_bff07a05d0c50769.txt");

    public static string Root => SharedTestFolder.Root;
}
