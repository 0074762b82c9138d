using System.Text.Json;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Download;

namespace EfficientNet.Batch.Models.Tests.Store;

/// <summary>es/em default to the released configs' 01 normalisation; an import may override it (spec §6 note), and
/// every consumer then sees the override through <see cref="ResolvedModel.Variant"/>.</summary>
public sealed class NormalizationOverrideTests : IDisposable
{
    private const string Es = "efficientnet_es";
    private const string Em = "efficientnet_em";
    private readonly TempDirectory _temp = new();
    private readonly ModelStore _store;
    private readonly CheckpointImporter _importer;

    public NormalizationOverrideTests()
    {
        _store = new ModelStore(_temp.Sub("store"));
        _importer = new CheckpointImporter(_store);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Checkpoint_imported_with_an_override_is_resolved_with_its_mean_and_std()
    {
        var path = await WriteAsync("es.pth", TestCheckpoints.Es);

        var imported = await _importer.ImportFileAsync(Es, path, null, Normalization.ImageNet, CancellationToken.None);
        var resolved = await new ModelStore(_store.Root).ResolveAsync(Es, null, CancellationToken.None);

        Assert.Equal(imported, resolved);
        Assert.Equal([123.675f, 116.28f, 103.53f], resolved.Variant.Mean);
        Assert.Equal([58.395f, 57.12f, 57.375f], resolved.Variant.Std);
        Assert.Equal("imagenet", resolved.Variant.NormalizationName);
        Assert.True(resolved.NormalizationOverridden);
        Assert.EndsWith(", normalisation imagenet (override)", resolved.WeightsDescription, StringComparison.Ordinal);
        Assert.Contains("es.pth", resolved.WeightsDescription, StringComparison.Ordinal);
        // The stored ONNX file names what it is served with, so an export carries the override along.
        Assert.Equal("imagenet", OnnxMetadata(resolved.OnnxPath)[NormalizationMetadata.NameKey]);
        Assert.Equal("123.675,116.28,103.53", OnnxMetadata(resolved.OnnxPath)[NormalizationMetadata.MeanKey]);
    }

    [Fact]
    public async Task Import_without_an_override_keeps_the_catalogue_normalization()
    {
        var path = await WriteAsync("es.pth", TestCheckpoints.Es);

        await _importer.ImportFileAsync(Es, path, null, CancellationToken.None);
        var resolved = await _store.ResolveAsync(Es, null, CancellationToken.None);

        Assert.Equal(Normalization.ZeroOne, resolved.Variant.Normalization);
        Assert.Equal(ModelCatalogue.Get(Es), resolved.Variant);
        Assert.False(resolved.NormalizationOverridden);
        Assert.DoesNotContain("normalisation", resolved.WeightsDescription, StringComparison.Ordinal);
        Assert.Equal("catalogue", Manifest().GetProperty("normalization_source").GetString());
    }

    [Fact]
    public async Task Onnx_import_honours_the_normalization_named_in_the_files_metadata()
    {
        var path = await WriteOnnxAsync("es.onnx", (NormalizationMetadata.NameKey, "ImageNet"));

        var model = await _importer.ImportFileAsync(Es, path, null, CancellationToken.None);

        Assert.Equal(Normalization.ImageNet, model.Variant.Normalization);
        Assert.EndsWith(", normalisation imagenet (override from the file's metadata)", model.WeightsDescription, StringComparison.Ordinal);
        Assert.Equal("file_metadata", Manifest().GetProperty("normalization_source").GetString());
        Assert.Equal("imagenet", Manifest().GetProperty("normalization").GetString());
        Assert.Equal(58.395, Manifest().GetProperty("std")[0].GetDouble(), 3);
    }

    [Fact]
    public async Task Onnx_import_honours_mean_and_std_in_the_files_metadata()
    {
        var path = await WriteOnnxAsync("es.onnx", (NormalizationMetadata.MeanKey, "120, 115, 100"), (NormalizationMetadata.StdKey, "60,60,60"));

        var model = await _importer.ImportFileAsync(Es, path, null, CancellationToken.None);

        Assert.Equal([120f, 115f, 100f], model.Variant.Mean);
        Assert.Equal([60f, 60f, 60f], model.Variant.Std);
        Assert.Equal("custom", model.Variant.NormalizationName);
        Assert.Contains("normalisation custom (mean 120,115,100; std 60,60,60)", model.WeightsDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mean_and_std_metadata_equal_to_imagenet_are_named_imagenet()
    {
        var path = await WriteOnnxAsync("es.onnx", (NormalizationMetadata.MeanKey, "123.675,116.28,103.53"), (NormalizationMetadata.StdKey, "58.395,57.12,57.375"));

        var model = await _importer.ImportFileAsync(Es, path, null, CancellationToken.None);

        Assert.Equal(Normalization.ImageNet, model.Variant.Normalization);
    }

    [Fact]
    public async Task Explicit_option_wins_over_the_files_metadata()
    {
        var path = await WriteOnnxAsync("em.onnx", Em, (NormalizationMetadata.NameKey, "01"));

        var model = await _importer.ImportFileAsync(Em, path, null, Normalization.ImageNet, CancellationToken.None);

        Assert.Equal(Normalization.ImageNet, model.Variant.Normalization);
        Assert.EndsWith("normalisation imagenet (override)", model.WeightsDescription, StringComparison.Ordinal);
        Assert.Equal("option", Manifest(Em).GetProperty("normalization_source").GetString());
        Assert.Equal("imagenet", OnnxMetadata(model.OnnxPath)[NormalizationMetadata.NameKey]);
    }

    [Fact]
    public async Task Explicit_option_equal_to_the_catalogue_is_no_override()
    {
        var path = await WriteOnnxAsync("es.onnx", (NormalizationMetadata.NameKey, "imagenet"));

        var model = await _importer.ImportFileAsync(Es, path, null, Normalization.ZeroOne, CancellationToken.None);

        Assert.Equal(Normalization.ZeroOne, model.Variant.Normalization);
        Assert.False(model.NormalizationOverridden);
        Assert.DoesNotContain("normalisation", model.WeightsDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reimported_export_of_our_own_model_keeps_the_catalogue_normalization()
    {
        // Our ONNX files always name their normalisation; a round trip through export must not look like an override.
        var path = await WriteOnnxAsync("es.onnx");

        var model = await _importer.ImportFileAsync(Es, path, null, CancellationToken.None);

        Assert.Equal(Normalization.ZeroOne, model.Variant.Normalization);
        Assert.False(model.NormalizationOverridden);
        Assert.DoesNotContain("normalisation", model.WeightsDescription, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normalization", "bgr")]
    [InlineData("mean", "0.485,0.456,0.406")]
    [InlineData("mean", "1,2")]
    public async Task Unusable_normalization_metadata_is_refused_unless_an_option_is_given(string key, string value)
    {
        var path = await WriteOnnxAsync("es.onnx", (key, value));

        var error = await Assert.ThrowsAsync<OnnxModelRejectedException>(
            () => _importer.ImportFileAsync(Es, path, null, CancellationToken.None));
        var model = await _importer.ImportFileAsync(Es, path, null, Normalization.ImageNet, CancellationToken.None);

        Assert.Contains("--normalization", error.Message, StringComparison.Ordinal);
        Assert.Equal(Normalization.ImageNet, model.Variant.Normalization);
    }

    [Fact]
    public async Task Random_weights_always_use_the_catalogue_normalization()
    {
        await _importer.ImportFileAsync(Es, await WriteAsync("es.pth", TestCheckpoints.Es), null, Normalization.ImageNet, CancellationToken.None);

        var random = await _store.ResolveAsync(Es, 3, CancellationToken.None);

        Assert.Equal(Normalization.ZeroOne, random.Variant.Normalization);
        Assert.DoesNotContain("normalisation", random.WeightsDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_round_trips_the_override_and_its_source()
    {
        await _importer.ImportFileAsync(Es, await WriteAsync("es.pth", TestCheckpoints.Es), null, Normalization.ImageNet, CancellationToken.None);

        var manifest = await ModelManifest.ReadAsync(_store.ImportedManifestPath(Es), CancellationToken.None);
        var again = await ModelManifest.ReadAsync(new MemoryStream(manifest.ToJsonBytes()), "copy", CancellationToken.None);

        Assert.Equal(NormalizationSource.Option, again.NormalizationSource);
        Assert.Equal("imagenet", again.Normalization);
        Assert.Equal(Normalization.ImageNet.Mean, again.Mean);
        Assert.Equal(Normalization.ImageNet.Std, again.Std);
        Assert.Equal(manifest with { Mean = again.Mean, Std = again.Std }, again);
    }

    [Fact]
    public async Task Manifest_json_is_what_the_reflection_serializer_writes_with_the_manifest_options()
    {
        // The compile-time context must not drift from the format stores already hold: snake_case, indented, enums as
        // snake_case strings, a custom model's class fields left out when null.
        var reflection = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            WriteIndented = true,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
            Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter<NormalizationSource>(JsonNamingPolicy.SnakeCaseLower) },
        };
        await _importer.ImportFileAsync(Es, await WriteAsync("es.pth", TestCheckpoints.Es), null, Normalization.ImageNet, CancellationToken.None);
        var stored = await File.ReadAllBytesAsync(_store.ImportedManifestPath(Es));
        var manifest = await ModelManifest.ReadAsync(_store.ImportedManifestPath(Es), CancellationToken.None);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(manifest, reflection), stored);
        Assert.Equal(stored, manifest.ToJsonBytes());
        Assert.Contains("\"normalization_source\": \"option\"", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.DoesNotContain("classes_sha256", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_written_before_overrides_existed_is_served_with_the_catalogue_normalization()
    {
        await _importer.ImportFileAsync(Es, await WriteAsync("es.pth", TestCheckpoints.Es), null, CancellationToken.None);
        var json = await File.ReadAllTextAsync(_store.ImportedManifestPath(Es));
        var legacy = json.Replace(",\n  \"normalization_source\": \"catalogue\"", "", StringComparison.Ordinal);
        Assert.NotEqual(json, legacy);
        await File.WriteAllTextAsync(_store.ImportedManifestPath(Es), legacy);

        var resolved = await _store.ResolveAsync(Es, null, CancellationToken.None);

        Assert.Null((await ModelManifest.ReadAsync(_store.ImportedManifestPath(Es), CancellationToken.None)).NormalizationSource);
        Assert.Equal(Normalization.ZeroOne, resolved.Variant.Normalization);
    }

    [Fact]
    public async Task Listing_shows_the_stored_normalization_and_marks_an_override()
    {
        await _importer.ImportFileAsync(Es, await WriteAsync("es.pth", TestCheckpoints.Es), null, Normalization.ImageNet, CancellationToken.None);

        var rows = await ModelListing.BuildAsync(_store, CancellationToken.None);

        var es = rows.Single(r => r.Id == Es);
        Assert.Equal("imagenet", es.Normalization);
        Assert.True(es.NormalizationOverridden);
        Assert.Equal("imagenet*", es.NormalizationLabel);
        var em = rows.Single(r => r.Id == Em);
        Assert.Equal("01", em.NormalizationLabel);
        Assert.False(em.NormalizationOverridden);
        Assert.Single(rows, r => r.NormalizationOverridden);
    }

    [Fact]
    public async Task Override_reaches_a_worker_through_the_shared_store()
    {
        var remote = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        Task<Stream?> Open(string key, CancellationToken ct) =>
            Task.FromResult<Stream?>(remote.TryGetValue(key, out var bytes) ? new MemoryStream(bytes, writable: false) : null);
        async Task Upload(string key, Stream content, CancellationToken ct)
        {
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, ct);
            remote[key] = copy.ToArray();
        }

        await _importer.ImportFileAsync(Es, await WriteAsync("es.pth", TestCheckpoints.Es), null, Normalization.ImageNet, CancellationToken.None);
        await new BlobModelSource(_store, Open, Upload).PublishAsync(Es, CancellationToken.None);

        var synced = await new BlobModelSource(new ModelStore(_temp.Sub("worker")), Open).SyncAsync(Es, null, CancellationToken.None);

        Assert.True(synced.Downloaded);
        Assert.Equal(Normalization.ImageNet, synced.Model.Variant.Normalization);
        Assert.EndsWith("normalisation imagenet (override)", synced.Model.WeightsDescription, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("imagenet", "imagenet")]
    [InlineData("01", "01")]
    [InlineData(" IMAGENET ", "imagenet")]
    public void Normalization_names_parse_case_insensitively(string name, string expected) =>
        Assert.Equal(expected, Normalization.Parse(name).Name);

    [Fact]
    public void Unknown_normalization_name_lists_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => Normalization.Parse("tf"));

        Assert.Contains("imagenet, 01", error.Message, StringComparison.Ordinal);
    }

    private JsonElement Manifest(string id = Es)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(_store.ImportedManifestPath(id)));
        return document.RootElement.Clone();
    }

    private static Dictionary<string, string> OnnxMetadata(string path) =>
        ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private Task<string> WriteOnnxAsync(string name, params (string Key, string Value)[] metadata) => WriteOnnxAsync(name, Es, metadata);

    /// <summary>An ONNX export of random weights for <paramref name="id"/>. With <paramref name="metadata"/>, our
    /// normalisation keys are replaced by exactly those entries; without, the file keeps ours (the catalogue's).</summary>
    private async Task<string> WriteOnnxAsync(string name, string id, params (string Key, string Value)[] metadata)
    {
        var source = await new ModelStore(_temp.Sub("source")).ResolveAsync(id, 7, CancellationToken.None);
        var model = ModelProto.Parser.ParseFrom(await File.ReadAllBytesAsync(source.OnnxPath));
        if (metadata.Length > 0)
        {
            string[] ours = [NormalizationMetadata.NameKey, NormalizationMetadata.MeanKey, NormalizationMetadata.StdKey];
            var kept = model.MetadataProps.Where(p => !ours.Contains(p.Key)).ToList();
            model.MetadataProps.Clear();
            model.MetadataProps.Add(kept);
            foreach (var (key, value) in metadata)
            {
                model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
            }
        }

        return await WriteAsync(name, Google.Protobuf.MessageExtensions.ToByteArray(model));
    }

    private async Task<string> WriteAsync(string name, byte[] bytes)
    {
        Directory.CreateDirectory(_temp.Sub("input"));
        var path = Path.Combine(_temp.Sub("input"), name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }
}
