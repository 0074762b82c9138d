using System.Text.Json;

namespace EfficientNet.Batch.Models.Tests.Checkpoints;

/// <summary>The committed torch.save fixtures and the values torch itself recorded for them (expected.json).</summary>
internal static class CheckpointFixtures
{
    private static readonly Lazy<ExpectedFixtures> LazyExpected = new(() =>
        JsonSerializer.Deserialize<ExpectedFixtures>(
            File.ReadAllText(PathOf("expected.json")),
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!);

    public static ExpectedFixtures Expected => LazyExpected.Value;

    public static string PathOf(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Checkpoints", "Fixtures", fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Fixture {fileName} was not copied to the test output.", path);
    }

    public static byte[] Bytes(string fileName) => File.ReadAllBytes(PathOf(fileName));
}

internal sealed record ExpectedFixtures(
    string TorchVersion,
    Dictionary<string, string> ZipPrefixes,
    string PwnedMarker,
    string[] SkippedKeys,
    Dictionary<string, ExpectedTensor> Tensors);

internal sealed record ExpectedTensor(int[] Shape, string SourceDtype, long[] Stride, long StorageOffset, bool IsContiguous, double[] Values)
{
    // json holds the exact double of each float32 value, so this conversion is exact.
    public float[] Float32Values => Values.Select(v => (float)v).ToArray();
}
