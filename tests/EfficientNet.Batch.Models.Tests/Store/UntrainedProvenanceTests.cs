using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests.Store;

/// <summary>Untrained weights stay untrained through an ONNX export and an import elsewhere: the file's metadata says
/// so, and the store that imports it records it.</summary>
public sealed class UntrainedProvenanceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-provenance-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Generated_weights_exported_and_imported_again_are_recorded_as_untrained()
    {
        var generated = await new ModelStore(Path.Combine(_root, "a")).ResolveAsync("efficientnet_es", 6, CancellationToken.None);
        var exported = Path.Combine(_root, "exported.onnx");
        File.Copy(generated.OnnxPath, exported);

        var imported = await new ModelStore(Path.Combine(_root, "b")).ImportOnnxAsync("efficientnet_es", exported, "exported.onnx", "00", CancellationToken.None);

        Assert.True(imported.Untrained);
        Assert.Contains("UNTRAINED", imported.WeightsDescription, StringComparison.Ordinal);
        Assert.True((await ModelManifest.ReadAsync(Path.Combine(_root, "b", "efficientnet_es", "model.json"), CancellationToken.None)).Untrained);
    }

    [Fact]
    public async Task Learned_weights_imported_from_our_onnx_stay_trained()
    {
        var store = new ModelStore(Path.Combine(_root, "a"));
        var weights = RandomWeights.Generate(ModelCatalogue.Get("efficientnet_es").Architecture, 8);
        var trained = await store.ImportAsync("efficientnet_es", weights, "es.pth", "00", CancellationToken.None);
        var exported = Path.Combine(_root, "trained.onnx");
        File.Copy(trained.OnnxPath, exported);

        var imported = await new ModelStore(Path.Combine(_root, "b")).ImportOnnxAsync("efficientnet_es", exported, "trained.onnx", "00", CancellationToken.None);

        Assert.False(imported.Untrained);
    }
}
