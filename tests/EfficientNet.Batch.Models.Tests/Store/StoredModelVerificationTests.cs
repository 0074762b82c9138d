using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests.Store;

/// <summary>A stored model is checked against the SHA-256 its manifest records before a process uses it: a damaged
/// copy is refused, naming the file and the repair, instead of classifying with other outputs.</summary>
public sealed class StoredModelVerificationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-verify-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<(ModelStore Store, ResolvedModel Model)> ImportAsync()
    {
        var store = new ModelStore(_root);
        var weights = RandomWeights.Generate(ModelCatalogue.Get("efficientnet_es").Architecture, 4);
        var model = await store.ImportAsync("efficientnet_es", weights, "es.pth", "00", CancellationToken.None);
        return (store, model);
    }

    [Fact]
    public async Task A_stored_model_with_a_zeroed_kilobyte_is_refused_naming_the_file_and_the_repair()
    {
        var (store, model) = await ImportAsync();
        // Verified once (the verdict is cached), then damaged: the change of the file is seen and it is hashed again.
        await store.ResolveAsync("efficientnet_es", null, CancellationToken.None);
        await using (var file = new FileStream(model.OnnxPath, FileMode.Open, FileAccess.Write))
        {
            file.Position = file.Length / 2;
            file.Write(new byte[1024]);
        }

        File.SetLastWriteTimeUtc(model.OnnxPath, DateTime.UtcNow.AddSeconds(5));
        var refused = await Assert.ThrowsAsync<ModelHashMismatchException>(() => store.ResolveAsync("efficientnet_es", null, CancellationToken.None));

        Assert.Equal(model.OnnxSha256, refused.ExpectedSha256);
        Assert.NotEqual(model.OnnxSha256, refused.ActualSha256);
        Assert.Contains(model.OnnxPath, refused.Message, StringComparison.Ordinal);
        Assert.Contains("effnet models pull efficientnet_es", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_stored_model_is_refused()
    {
        var (store, model) = await ImportAsync();
        await using (var file = new FileStream(model.OnnxPath, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length - 4096);
        }

        var refused = await Assert.ThrowsAsync<ModelHashMismatchException>(() => store.ResolveAsync("efficientnet_es", null, CancellationToken.None));

        Assert.Contains("damaged", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Damaged_generated_weights_are_generated_again()
    {
        var store = new ModelStore(_root);
        var first = await store.ResolveAsync("efficientnet_es", 3, CancellationToken.None);
        await using (var file = new FileStream(first.OnnxPath, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length / 2);
        }

        var again = await store.ResolveAsync("efficientnet_es", 3, CancellationToken.None);

        Assert.Equal(first.OnnxSha256, again.OnnxSha256);
        Assert.Equal(first.OnnxSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(again.OnnxPath))));
    }
}
