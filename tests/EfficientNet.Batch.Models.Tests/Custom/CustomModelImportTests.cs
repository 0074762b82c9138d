using System.Security.Cryptography;
using System.Text.Json;
using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Tests.Download;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Models.Tests.Custom;

/// <summary><c>effnet models import FILE --model NAME --arch ARCH --classes NAMES</c> (issue #12), below the CLI.</summary>
public sealed class CustomModelImportTests : IDisposable
{
    private const string Name = "pets";
    private readonly TempDirectory _temp = new();
    private readonly ModelStore _store;
    private readonly CheckpointImporter _importer;

    public CustomModelImportTests()
    {
        _store = new ModelStore(_temp.Sub("store"));
        _importer = new CheckpointImporter(_store);
    }

    public void Dispose() => _temp.Dispose();

    private string Checkpoint => CustomModelFiles.Write(_temp, "input/pets-b0.pth", CustomModelFiles.PetsB0);

    private string Names(IEnumerable<string>? names = null, string file = "names.txt") =>
        CustomModelFiles.WriteNames(_temp, $"input/{file}", names ?? CustomModelFiles.PetBreeds);

    private Task<ResolvedModel> ImportPetsAsync(string name = Name, string arch = "b0", string? names = null) =>
        _importer.ImportCustomFileAsync(name, arch, names ?? Names(), Checkpoint, null, null, CancellationToken.None);

    [Fact]
    public async Task Custom_checkpoint_with_37_classes_builds_an_onnx_model_with_37_outputs()
    {
        var model = await ImportPetsAsync();

        using var session = new InferenceSession(model.OnnxPath);
        Assert.Equal([-1, 37], session.OutputMetadata["probs"].Dimensions);
        var input = OnnxRuntimeTests.TwoImages(224);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var probs = Assert.Single(results).AsTensor<float>();
        Assert.Equal([2, 37], probs.Dimensions.ToArray());
        for (var image = 0; image < 2; image++)
        {
            Assert.Equal(1.0, Enumerable.Range(0, 37).Sum(c => (double)probs[image, c]), 1e-4);
        }

        Assert.Equal(CustomModelFiles.PetBreeds, model.ClassNames);
        Assert.True(model.Variant.IsCustom);
        Assert.Equal(Name, model.Variant.Id);
        Assert.Equal("b0", model.Variant.Arch);
        Assert.Equal(CustomModel.Flavour, model.Variant.Flavour);
        Assert.Equal(37, model.Variant.Architecture.ClassCount);
        Assert.False(model.Untrained);
        Assert.Contains("pets-b0.pth", model.WeightsDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Custom_model_keeps_its_names_beside_the_weights_hashed_into_the_manifest()
    {
        var model = await ImportPetsAsync();

        var classesPath = Path.Combine(_store.Root, Name, "classes.txt");
        Assert.Equal(_store.ClassNamesPath(Name), classesPath);
        Assert.Equal(CustomModelFiles.PetBreeds, File.ReadAllLines(classesPath));
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_store.Root, Name, "model.json")));
        var json = manifest.RootElement;
        Assert.Equal(Name, json.GetProperty("id").GetString());
        Assert.Equal("b0", json.GetProperty("arch").GetString());
        Assert.Equal("custom", json.GetProperty("flavour").GetString());
        Assert.Equal(37, json.GetProperty("class_count").GetInt32());
        Assert.Equal("classes.txt", json.GetProperty("classes_file").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(classesPath))), json.GetProperty("classes_sha256").GetString());
        Assert.Equal(model.OnnxSha256, json.GetProperty("onnx_sha256").GetString());
        // The ONNX file says what its outputs are, for whoever exports it.
        using var session = new InferenceSession(model.OnnxPath);
        Assert.Equal(string.Join('\n', CustomModelFiles.PetBreeds), session.ModelMetadata.CustomMetadataMap["classes"]);
        Assert.Equal("37", session.ModelMetadata.CustomMetadataMap["class_count"]);
    }

    [Fact]
    public async Task Custom_model_is_resolved_by_its_name_in_any_case_with_its_class_names()
    {
        var imported = await ImportPetsAsync();

        var resolved = await _store.ResolveAsync("Pets", null, CancellationToken.None);
        var found = await _store.FindAsync(" PETS ", CancellationToken.None);

        Assert.Equal(imported, resolved);
        Assert.Equal(CustomModelFiles.PetBreeds, resolved.ClassNames);
        Assert.NotNull(found);
        Assert.Equal(CustomModelFiles.PetBreeds, found.ClassNames);
        Assert.True(_store.HasImportedWeights(Name));
        // Zoo models keep ImageNet's names.
        Assert.Equal(ImageNetClasses.Names, (await _store.FindAsync("efficientnet_b0", CancellationToken.None))!.ClassNames);
    }

    [Fact]
    public async Task Custom_model_is_served_with_the_zoo_default_normalisation_of_its_arch_unless_overridden()
    {
        var b0 = await ImportPetsAsync();
        var es = await _importer.ImportCustomFileAsync(
            "pets-es", "es", Names(), CustomModelFiles.Write(_temp, "input/es.pth", CustomModelFiles.Checkpoint("es", 37, 3)), null, null, CancellationToken.None);
        var overridden = await _importer.ImportCustomFileAsync(
            "pets-01", "b0", Names(), Checkpoint, null, Normalization.ZeroOne, CancellationToken.None);

        Assert.Equal(Normalization.ImageNet, b0.Variant.Normalization);
        Assert.False(b0.NormalizationOverridden);
        // The EdgeTPU zoo rows are served with the released configs' 127.5/127.5 (spec §6).
        Assert.Equal(Normalization.ZeroOne, es.Variant.Normalization);
        Assert.False(es.NormalizationOverridden);
        Assert.Equal(Normalization.ZeroOne, CustomModel.DefaultNormalization(ArchSpec.Get("b8")));
        Assert.Equal(Normalization.ImageNet, CustomModel.DefaultNormalization(ArchSpec.Get("b7")));
        Assert.Equal(Normalization.ZeroOne, overridden.Variant.Normalization);
        Assert.True(overridden.NormalizationOverridden);
        Assert.Equal(Normalization.ZeroOne, (await _store.ResolveAsync("pets-01", null, CancellationToken.None)).Variant.Normalization);
    }

    [Fact]
    public async Task Names_file_with_another_count_than_the_head_is_refused_naming_both_numbers()
    {
        var names = Names(CustomModelFiles.PetBreeds.Take(36), "breeds.txt");

        var error = await Assert.ThrowsAsync<ClassCountMismatchException>(() => ImportPetsAsync(names: names));

        Assert.Equal("breeds.txt has 36 class names, but the checkpoint's head has 37 outputs (head.fc.weight [37, 1280]); "
            + "give exactly one name per output, in output order.", error.Message);
        Assert.Equal(36, error.NameCount);
        Assert.Equal(37, error.HeadOutputs);
        Assert.False(Directory.Exists(Path.Combine(_store.Root, Name)));
    }

    [Theory]
    [InlineData("efficientnet_b0", "is the zoo model efficientnet_b0")]
    [InlineData("EfficientNet_B3_advprob", "is the zoo model efficientnet_b3_advprop")]
    [InlineData("My Pets", "lowercase letters, digits")]
    [InlineData("Pets", "(e.g. 'pets')")]
    [InlineData("../pets", "lowercase letters, digits")]
    [InlineData("-pets", "starting with a letter or digit")]
    [InlineData("", "needs a name")]
    public async Task Zoo_ids_and_malformed_names_are_refused_as_custom_model_names(string name, string reason)
    {
        var error = await Assert.ThrowsAsync<InvalidModelNameException>(() => ImportPetsAsync(name: name));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_store.Root) && Directory.EnumerateFileSystemEntries(_store.Root).Any());
    }

    [Fact]
    public async Task Arch_outside_the_zoo_is_refused_listing_the_zoo_archs()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => ImportPetsAsync(arch: "b9"));

        Assert.Contains("unknown arch 'b9'", error.Message, StringComparison.Ordinal);
        Assert.Contains("b0, b1, b2, b3, b4, b5, b6, b7, b8, es, em", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoint_of_another_arch_is_refused_with_its_mismatches_even_with_the_right_class_count()
    {
        var b1 = CustomModelFiles.Write(_temp, "input/pets-b1.pth", CustomModelFiles.Checkpoint("b1", 37, 5));

        var error = await Assert.ThrowsAsync<CheckpointMismatchException>(
            () => _importer.ImportCustomFileAsync(Name, "b0", Names(), b1, null, null, CancellationToken.None));

        Assert.NotEmpty(error.Unexpected);
        Assert.DoesNotContain(error.MisShaped, m => m.Key.StartsWith("head.", StringComparison.Ordinal));
        Assert.False(_store.HasImportedWeights(Name));
    }

    [Theory]
    [InlineData("Abyssinian\n\nBengal\n", "line 2 is empty")]
    [InlineData("Abyssinian\nBengal\nAbyssinian\n", "'Abyssinian' appears more than once (lines 1, 3)")]
    [InlineData("Abyssinian\n", "at least 2")]
    public void Malformed_names_files_are_refused_with_the_line_at_fault(string text, string reason)
    {
        var error = Assert.Throws<ClassNamesException>(() => ClassNames.Parse(text, "names.txt"));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_custom_name_is_refused_listing_the_custom_models_in_the_store()
    {
        await ImportPetsAsync();

        var error = await Assert.ThrowsAsync<UnknownModelException>(() => _store.ResolveAsync("birds", null, CancellationToken.None));

        Assert.Contains("Unknown model 'birds'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Custom models in the store: pets.", error.Message, StringComparison.Ordinal);
        Assert.Contains("--classes", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "birds")));
    }

    [Fact]
    public async Task Random_weights_of_a_custom_model_have_its_head_and_names()
    {
        await ImportPetsAsync();

        var random = await _store.ResolveAsync(Name, 3, CancellationToken.None);

        Assert.True(random.Untrained);
        Assert.Equal(CustomModelFiles.PetBreeds, random.ClassNames);
        using var session = new InferenceSession(random.OnnxPath);
        Assert.Equal([-1, 37], session.OutputMetadata["probs"].Dimensions);
    }

    [Fact]
    public async Task Exported_custom_onnx_imports_as_a_custom_model_only_with_as_many_names_as_outputs()
    {
        var pets = await ImportPetsAsync();
        var onnx = CustomModelFiles.Write(_temp, "input/pets.onnx", File.ReadAllBytes(pets.OnnxPath));

        var copy = await _importer.ImportCustomFileAsync("pets-copy", "b0", Names(), onnx, null, null, CancellationToken.None);
        var error = await Assert.ThrowsAsync<OnnxModelRejectedException>(() => _importer.ImportCustomFileAsync(
            "pets-short", "b0", Names(CustomModelFiles.PetBreeds.Skip(1), "short.txt"), onnx, null, null, CancellationToken.None));

        Assert.Equal(CustomModelFiles.PetBreeds, copy.ClassNames);
        Assert.Contains("is float [N, 37]", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs float [N, 36], one output per class name", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "pets-short")));
    }

    [Fact]
    public async Task Damaged_class_names_are_not_served()
    {
        await ImportPetsAsync();
        await File.AppendAllTextAsync(_store.ClassNamesPath(Name), "tabby\n");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _store.ResolveAsync(Name, null, CancellationToken.None));

        Assert.Contains("classes.txt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Custom_head_changes_the_parameter_and_multiply_add_counts_by_the_classifier_only()
    {
        var zoo = ArchSpec.Get("b0");
        var pets = zoo.WithClassCount(37);

        Assert.Equal(5_288_548 - ((1000 - 37) * (1280 + 1)), pets.ParameterCount);
        Assert.Equal(385_814_752 - ((1000 - 37) * 1280), pets.MultiplyAdds);
        Assert.Equal([37, 1280], pets.ParameterShapes().Single(s => s.Key == "head.fc.weight").Shape);
        Assert.Equal(zoo.ParameterShapes().Count, pets.ParameterShapes().Count);
        Assert.Same(pets, zoo.WithClassCount(37));
        Assert.Same(zoo, pets.WithClassCount(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => zoo.WithClassCount(1));
    }
}
