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
    public async Task Custom_model_runs_a_whole_job_whose_outputs_name_its_classes()
    {
        await ImportPetsAsync();
        var dataset = Directory.CreateDirectory(Path.Combine(_work, "photos")).FullName;
        foreach (var photo in CustomClassesFiles.Photos)
        {
            File.Copy(photo, Path.Combine(dataset, Path.GetFileName(photo)));
        }

        var output = Path.Combine(_work, "out");
        var (exitCode, stdout, stderr) = await EffnetAsync(
            "run", dataset, "--model", "Pets", "--out", output, "--format", "csv", "--review-max-probability", "1");

        Assert.True(exitCode == 0, $"run: exit {exitCode}: {stdout}{stderr}");
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "summary.json")))!.AsObject();
        Assert.Equal("Completed", summary["status"]!.GetValue<string>());
        Assert.Equal("pets", summary["model"]!["id"]!.GetValue<string>());
        Assert.Equal("b0", summary["model"]!["arch"]!.GetValue<string>());
        Assert.Equal("custom", summary["model"]!["flavour"]!.GetValue<string>());
        Assert.Equal(3, summary["imagesOk"]!.GetValue<long>());
        Assert.All(summary["top1Histogram"]!.AsArray(), c =>
            Assert.Equal(CustomClassesFiles.PetBreeds[c!["index"]!.GetValue<int>()], c["name"]!.GetValue<string>()));

        var csv = await File.ReadAllLinesAsync(Path.Combine(output, "predictions.csv"));
        Assert.Equal(4, csv.Length);
        Assert.All(csv.Skip(1), row => Assert.Contains(CustomClassesFiles.PetBreeds, breed => row.Contains(breed, StringComparison.Ordinal)));

        // Every image is below a bound of 1, so all go to review; the labeling config offers all 37 classes.
        var config = await File.ReadAllTextAsync(Path.Combine(output, "review-labelstudio.xml"));
        Assert.Equal(37, System.Text.RegularExpressions.Regex.Count(config, "<Choice "));
        Assert.Contains(CustomClassesFiles.PetBreeds[36], config, StringComparison.Ordinal);
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
