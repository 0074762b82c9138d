using System.Text.Json;
using EfficientNet.Batch.Models.Checkpoints;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Checkpoints;
using EfficientNet.Batch.Models.Tests.Download;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Models.Tests.Store;

public sealed class CheckpointImporterTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ModelStore _store;
    private readonly CheckpointImporter _importer;

    public CheckpointImporterTests()
    {
        _store = new ModelStore(_temp.Sub("store"));
        _importer = new CheckpointImporter(_store);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Pytorch_checkpoint_is_read_built_and_stored_with_its_source_name_and_hash()
    {
        var path = await WriteAsync("my-es.pt", TestCheckpoints.Es);

        var model = await _importer.ImportFileAsync("efficientnet_es", path, null, CancellationToken.None);

        Assert.False(model.Untrained);
        Assert.Contains("my-es.pt", model.WeightsDescription, StringComparison.Ordinal);
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(_store.ImportedManifestPath("efficientnet_es")));
        Assert.Equal("my-es.pt", manifest.RootElement.GetProperty("source_file").GetString());
        Assert.Equal(TestFiles.Sha256(TestCheckpoints.Es), manifest.RootElement.GetProperty("source_sha256").GetString());
    }

    [Fact]
    public async Task Checkpoint_of_another_architecture_is_refused_and_nothing_is_stored()
    {
        var path = await WriteAsync("es.pth", TestCheckpoints.Es);

        var error = await Assert.ThrowsAsync<CheckpointMismatchException>(
            () => _importer.ImportFileAsync("efficientnet_em", path, null, CancellationToken.None));

        Assert.NotEmpty(error.Missing);
        Assert.False(_store.HasImportedWeights("efficientnet_em"));
    }

    [Fact]
    public async Task Unsafe_pickle_is_refused_and_nothing_is_stored()
    {
        var path = await WriteAsync("evil.pth", CheckpointFixtures.Bytes("malicious_zip.pth"));

        await Assert.ThrowsAsync<UnsafeCheckpointException>(() => _importer.ImportFileAsync("efficientnet_b0", path, null, CancellationToken.None));

        Assert.False(_store.HasImportedWeights("efficientnet_b0"));
    }

    [Fact]
    public async Task Unknown_file_type_is_refused_by_extension()
    {
        var path = await WriteAsync("weights.h5", [1, 2, 3]);

        var error = await Assert.ThrowsAsync<UnsupportedWeightsFileException>(
            () => _importer.ImportFileAsync("efficientnet_b0", path, null, CancellationToken.None));

        Assert.Contains(".pth, .pt, .bin, .onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Onnx_export_with_other_io_names_is_stored_with_the_names_inference_binds()
    {
        var source = await new ModelStore(_temp.Sub("source")).ResolveAsync("efficientnet_es", 7, CancellationToken.None);
        var renamed = RenameIo(await File.ReadAllBytesAsync(source.OnnxPath), "data", "output");
        var path = await WriteAsync("es-mmdeploy.onnx", renamed);

        var model = await _importer.ImportFileAsync("efficientnet_es", path, null, CancellationToken.None);

        // The source is an export of generated weights, and its metadata says so: the import keeps it.
        Assert.True(model.Untrained);
        using var session = new InferenceSession(model.OnnxPath);
        Assert.Equal(["input"], session.InputMetadata.Keys);
        Assert.Equal(["probs"], session.OutputMetadata.Keys);
        // Same graph as the source apart from the names: running both gives the same probabilities.
        Assert.Equal(Run(source.OnnxPath), Run(model.OnnxPath));
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(_store.ImportedManifestPath("efficientnet_es")));
        Assert.Equal(TestFiles.Sha256(renamed), manifest.RootElement.GetProperty("source_sha256").GetString());
        Assert.Equal(model.OnnxSha256, manifest.RootElement.GetProperty("onnx_sha256").GetString());
    }

    [Fact]
    public async Task Onnx_model_at_another_resolution_is_refused_with_the_expected_shape()
    {
        var es = await new ModelStore(_temp.Sub("source")).ResolveAsync("efficientnet_es", 7, CancellationToken.None);
        var path = await WriteAsync("es.onnx", await File.ReadAllBytesAsync(es.OnnxPath));

        var error = await Assert.ThrowsAsync<OnnxModelRejectedException>(
            () => _importer.ImportFileAsync("efficientnet_em", path, null, CancellationToken.None));

        Assert.Contains("is float [N, 3, 224, 224]", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs float [N, 3, 240, 240]", error.Message, StringComparison.Ordinal);
        Assert.False(_store.HasImportedWeights("efficientnet_em"));
    }

    [Fact]
    public async Task File_that_is_not_onnx_is_refused_as_unloadable()
    {
        var path = await WriteAsync("junk.onnx", TestFiles.RandomBytes(2000, 9));

        var error = await Assert.ThrowsAsync<OnnxModelRejectedException>(
            () => _importer.ImportFileAsync("efficientnet_es", path, null, CancellationToken.None));

        Assert.Contains("ONNX Runtime cannot load it", error.Message, StringComparison.Ordinal);
        Assert.False(_store.HasImportedWeights("efficientnet_es"));
    }

    private static float[] Run(string onnxPath)
    {
        using var session = new InferenceSession(onnxPath);
        var pixels = new float[3 * 224 * 224];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i % 255 / 127.5f) - 1f;
        }

        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, 224, 224]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["probs"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static byte[] RenameIo(byte[] onnx, string input, string output)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        foreach (var node in model.Graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = node.Input[i] == EfficientNetOnnxBuilder.InputName ? input : node.Input[i];
            }

            for (var i = 0; i < node.Output.Count; i++)
            {
                node.Output[i] = node.Output[i] == EfficientNetOnnxBuilder.OutputName ? output : node.Output[i];
            }
        }

        model.Graph.Input[0].Name = input;
        model.Graph.Output[0].Name = output;
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    private async Task<string> WriteAsync(string name, byte[] bytes)
    {
        Directory.CreateDirectory(_temp.Sub("input"));
        var path = Path.Combine(_temp.Sub("input"), name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }
}
