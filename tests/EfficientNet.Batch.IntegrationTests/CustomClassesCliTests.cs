using System.Text.Json.Nodes;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>Issue #12 as a user runs it: <c>effnet models import FILE --model NAME --arch b0 --classes names.txt</c>, then
/// the model labels photos with its own names. The model store is a fresh folder per test ($EFFNET_MODELS); no
/// RabbitMQ or Azurite is involved.</summary>
public sealed class CustomClassesCliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-custom-cli-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private Task<(int ExitCode, string Out, string Error)> EffnetAsync(params string[] args) =>
        Effnet.RunAsync(
            new Dictionary<string, string>
            {
                ["EFFNET_MODELS"] = Path.Combine(_work, "models"),
                // Pulls on first use go to a local port that refuses connections, never to the internet.
                ["EFFNET_CHECKPOINT_MIRROR"] = "http://127.0.0.1:9/",
            },
            args);

    private async Task ImportPetsAsync()
    {
        var (exitCode, stdout, stderr) = await EffnetAsync(
            "models", "import", CustomClassesFiles.WriteCheckpoint(_work), "--model", "pets", "--arch", "b0",
            "--classes", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds));
        Assert.True(exitCode == 0, $"import: exit {exitCode}: {stdout}{stderr}");
        Assert.Contains("imported pets", stdout, StringComparison.Ordinal);
        Assert.Contains("37 classes, arch b0", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Custom_model_imported_with_its_classes_labels_photos_with_its_own_names()
    {
        await ImportPetsAsync();
        var photos = CustomClassesFiles.Photos;

        var (exitCode, stdout, stderr) = await EffnetAsync(["classify", .. photos, "--model", "pets", "--top", "5", "--json"]);

        Assert.True(exitCode == 0, $"classify: exit {exitCode}: {stdout}{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(photos, lines.Select(l => l["path"]!.GetValue<string>()));
        Assert.All(lines, line =>
        {
            var top = line["top"]!.AsArray();
            Assert.Equal(5, top.Count);
            Assert.All(top, c =>
            {
                var index = c!["index"]!.GetValue<int>();
                Assert.InRange(index, 0, 36);
                Assert.Equal(CustomClassesFiles.PetBreeds[index], c["name"]!.GetValue<string>());
            });
        });
    }

    [Fact]
    public async Task Custom_model_is_listed_with_its_class_count()
    {
        await ImportPetsAsync();

        var (exitCode, stdout, stderr) = await EffnetAsync("models", "list", "--json");

        Assert.True(exitCode == 0, $"list: exit {exitCode}: {stderr}");
        var rows = JsonNode.Parse(stdout)!.AsArray();
        Assert.Equal(27, rows.Count);
        var pets = rows.Single(r => r!["id"]!.GetValue<string>() == "pets")!;
        Assert.Equal(37, pets["class_count"]!.GetValue<int>());
        Assert.True(pets["custom"]!.GetValue<bool>());
        Assert.True(pets["weights_present"]!.GetValue<bool>());
        Assert.Equal(1000, rows[0]!["class_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Custom_import_with_a_names_file_of_another_length_is_refused_naming_both_numbers()
    {
        var (exitCode, stdout, stderr) = await EffnetAsync(
            "models", "import", CustomClassesFiles.WriteCheckpoint(_work), "--model", "pets", "--arch", "b0",
            "--classes", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds.Take(36), "breeds.txt"));

        Assert.True(exitCode == 2, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Contains("breeds.txt has 36 class names, but the checkpoint's head has 37 outputs", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_work, "models", "pets")));
    }

    [Theory]
    [InlineData("efficientnet_b0", "'efficientnet_b0' is the zoo model efficientnet_b0; a custom model needs a name of its own")]
    [InlineData("My Pets", "'My Pets' is not a valid custom model name")]
    public async Task Custom_import_under_a_zoo_id_or_a_malformed_name_is_refused(string name, string reason)
    {
        var (exitCode, stdout, stderr) = await EffnetAsync(
            "models", "import", CustomClassesFiles.WriteCheckpoint(_work), "--model", name, "--arch", "b0",
            "--classes", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds));

        Assert.True(exitCode == 2, $"exit {exitCode}: {stdout}{stderr}");
        Assert.Contains(reason, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_work, "models")) && Directory.EnumerateFileSystemEntries(Path.Combine(_work, "models")).Any());
    }

    [Fact]
    public async Task Classes_without_arch_is_refused()
    {
        var (exitCode, _, stderr) = await EffnetAsync(
            "models", "import", CustomClassesFiles.WriteCheckpoint(_work), "--model", "pets",
            "--classes", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds));

        Assert.Equal(2, exitCode);
        Assert.Contains("--arch and --classes go together", stderr, StringComparison.Ordinal);
    }
}
