using EfficientNet.Batch.Testing;

namespace EfficientNet.Batch.Inference.Tests;

/// <summary>Locates the team's shared test data (…/shared/data), which is never copied into the repository.</summary>
internal static class SharedData
{
    public static string SamplesDirectory => SharedTestFolder.Samples;

    public static string BadInputsDirectory => SharedTestFolder.BadInputs;

    public static string Sample(string fileName) => Path.Combine(SamplesDirectory, fileName);

    public static string BadInput(string fileName) => Path.Combine(BadInputsDirectory, fileName);
}
