using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Download;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests.Store;

public sealed class ModelExporterTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Random_weights_are_exported_byte_for_byte()
    {
        var store = new ModelStore(_temp.Sub("store"));
        var destination = _temp.Sub("out/es.onnx");

        var model = await new ModelExporter(store).ExportAsync("efficientnet_es", 4, destination, CancellationToken.None);

        Assert.True(model.Untrained);
        Assert.Equal(await File.ReadAllBytesAsync(model.OnnxPath), await File.ReadAllBytesAsync(destination));
        Assert.Equal(["es.onnx"], Directory.GetFiles(_temp.Sub("out")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Missing_imported_model_writes_nothing()
    {
        var destination = _temp.Sub("out/b0.onnx");

        await Assert.ThrowsAsync<ModelNotAvailableException>(
            () => new ModelExporter(new ModelStore(_temp.Sub("store"))).ExportAsync("efficientnet_b0", null, destination, CancellationToken.None));

        Assert.False(File.Exists(destination));
    }

    [Fact]
    public async Task Stored_file_that_no_longer_matches_its_manifest_is_not_exported()
    {
        // Imported weights (damaged generated weights are generated again rather than refused).
        var store = new ModelStore(_temp.Sub("store"));
        var weights = RandomWeights.Generate(ModelCatalogue.Get("efficientnet_es").Architecture, 4);
        var model = await store.ImportAsync("efficientnet_es", weights, "es.pth", "00", CancellationToken.None);
        await File.WriteAllBytesAsync(model.OnnxPath, [1, 2, 3]);
        var destination = _temp.Sub("out/es.onnx");

        await Assert.ThrowsAsync<ModelHashMismatchException>(
            () => new ModelExporter(store).ExportAsync("efficientnet_es", null, destination, CancellationToken.None));

        Assert.Empty(TestFiles.FilesUnder(_temp.Sub("out")));
    }
}
