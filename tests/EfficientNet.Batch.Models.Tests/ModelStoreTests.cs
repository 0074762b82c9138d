using System.Security.Cryptography;
using System.Text.Json;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests;

public sealed class ModelStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"effnet-store-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public async Task Random_seed_model_is_generated_once_and_then_served_from_the_cache()
    {
        var store = new ModelStore(_root);

        var first = await store.ResolveAsync("efficientnet_es", 5, CancellationToken.None);
        var writtenAt = File.GetLastWriteTimeUtc(first.OnnxPath);
        var second = await store.ResolveAsync("EFFICIENTNET_ES", 5, CancellationToken.None);

        Assert.Equal(Path.Combine(_root, "efficientnet_es", "random-seed-5.onnx"), first.OnnxPath);
        Assert.True(File.Exists(Path.Combine(_root, "efficientnet_es", "random-seed-5.json")));
        Assert.True(first.Untrained);
        Assert.Contains("seed 5", first.WeightsDescription, StringComparison.Ordinal);
        Assert.Equal(Sha256Of(first.OnnxPath), first.OnnxSha256);
        Assert.Equal(first, second);
        Assert.Equal(writtenAt, File.GetLastWriteTimeUtc(second.OnnxPath));
        Assert.Empty(Directory.GetFiles(_root, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Same_seed_in_two_stores_gives_byte_identical_onnx()
    {
        var first = await new ModelStore(Path.Combine(_root, "a")).ResolveAsync("efficientnet_es", 9, CancellationToken.None);
        var second = await new ModelStore(Path.Combine(_root, "b")).ResolveAsync("efficientnet_es", 9, CancellationToken.None);

        Assert.Equal(first.OnnxSha256, second.OnnxSha256);
    }

    [Fact]
    public async Task Concurrent_resolves_of_one_seed_leave_one_complete_file()
    {
        var store = new ModelStore(_root);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.ResolveAsync("efficientnet_es", 2, CancellationToken.None)));

        Assert.Single(results.Select(r => r.OnnxSha256).Distinct());
        Assert.Equal(results[0].OnnxSha256, Sha256Of(results[0].OnnxPath));
        Assert.Equal(["random-seed-2.json", "random-seed-2.onnx"],
            Directory.GetFiles(Path.Combine(_root, "efficientnet_es")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Missing_import_tells_the_user_how_to_get_the_model()
    {
        var store = new ModelStore(_root);

        var error = await Assert.ThrowsAsync<ModelNotAvailableException>(() => store.ResolveAsync("efficientnet_b3_advprob", null, CancellationToken.None));

        Assert.Contains("effnet models import FILE --model efficientnet_b3_advprop", error.Message, StringComparison.Ordinal);
        Assert.Contains("--random-weights", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_model_is_rejected_before_touching_the_disk()
    {
        await Assert.ThrowsAsync<UnknownModelException>(() => new ModelStore(_root).ResolveAsync("resnet50", 1, CancellationToken.None));

        Assert.False(Directory.Exists(Path.Combine(_root, "resnet50")));
    }

    [Fact]
    public async Task Imported_weights_are_stored_with_a_manifest_and_resolved_without_a_seed()
    {
        var store = new ModelStore(_root);
        var variant = ModelCatalogue.Get("efficientnet_es");
        var weights = RandomWeights.Generate(variant.Architecture, 4);

        var imported = await store.ImportAsync("efficientnet_es", weights, "efficientnet_es_20200902-81a6b8fc.pth", "81a6b8fcabcdef", CancellationToken.None);
        var resolved = await store.ResolveAsync("efficientnet_es", null, CancellationToken.None);

        Assert.Equal(Path.Combine(_root, "efficientnet_es", "model.onnx"), resolved.OnnxPath);
        Assert.Equal(imported, resolved);
        Assert.False(resolved.Untrained);
        Assert.Equal(Sha256Of(resolved.OnnxPath), resolved.OnnxSha256);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_root, "efficientnet_es", "model.json")));
        var json = manifest.RootElement;
        Assert.Equal("efficientnet_es", json.GetProperty("id").GetString());
        Assert.Equal("es", json.GetProperty("arch").GetString());
        Assert.Equal("EdgeTPU-S", json.GetProperty("flavour").GetString());
        Assert.Equal(224, json.GetProperty("resolution").GetInt32());
        Assert.Equal("01", json.GetProperty("normalization").GetString());
        Assert.Equal(127.5, json.GetProperty("mean")[0].GetDouble());
        Assert.Equal("efficientnet_es_20200902-81a6b8fc.pth", json.GetProperty("source_file").GetString());
        Assert.Equal("81a6b8fcabcdef", json.GetProperty("source_sha256").GetString());
        Assert.Equal(resolved.OnnxSha256, json.GetProperty("onnx_sha256").GetString());
        Assert.True(json.TryGetProperty("created_utc", out _));
    }

    [Fact]
    public async Task Mismatched_import_stores_nothing()
    {
        var store = new ModelStore(_root);
        var weights = RandomWeights.Generate(ModelCatalogue.Get("efficientnet_es").Architecture, 4);

        await Assert.ThrowsAsync<CheckpointMismatchException>(
            () => store.ImportAsync("efficientnet_em", weights, "wrong.pth", "00", CancellationToken.None));

        Assert.False(Directory.Exists(Path.Combine(_root, "efficientnet_em")));
    }
}
