using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Models;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>A job manifest's labels, resolved against the job's model when the dataset is listed: a class index in
/// range or a class name becomes the index; anything else makes the dataset unusable, naming the line.</summary>
public sealed class DatasetLabelTests : IDisposable
{
    private static readonly string[] Pets = ["Abyssinian", "american_bulldog", "great_pyrenees"];

    private readonly string _root = Directory.CreateTempSubdirectory("effnet-labels-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<DatasetListing> ListAsync(string manifest, IReadOnlyList<string>? classNames)
    {
        var path = Path.Combine(_root, "manifest.csv");
        await File.WriteAllTextAsync(path, manifest);
        return await Lister().ListAsync(path, CancellationToken.None, classNames);
    }

    private DatasetLister Lister()
    {
        var policy = new LocationPolicy(
            new LocationRoots("Coordinator:AllowedDatasets", []),
            new LocationRoots("Coordinator:AllowedOutputs", []),
            [new ConfiguredLocation("Coordinator:OutputLocation", Path.Combine(_root, "out"))],
            [new ConfiguredLocation("Coordinator:StateLocation", "az://effnet-state")]);
        return new DatasetLister(new DatasetReader(new StorageResolver(Options.Create(new StorageOptions()))), policy, Options.Create(new JobLimitsOptions()));
    }

    [Fact]
    public async Task A_folder_or_an_image_is_listed_in_path_order_a_manifest_in_its_own()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "photos")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(folder, "a.jpg"), [0xFF, 0xD8]);
        var manifest = Path.Combine(_root, "manifest.csv");
        await File.WriteAllTextAsync(manifest, "photos/a.jpg\n");
        var lister = Lister();

        Assert.True(await lister.IsListedInPathOrderAsync(folder, CancellationToken.None));
        Assert.True(await lister.IsListedInPathOrderAsync(Path.Combine(folder, "a.jpg"), CancellationToken.None));
        Assert.False(await lister.IsListedInPathOrderAsync(manifest, CancellationToken.None));
        // A single file neither a manifest nor an image cannot be opened: the listing that follows says why.
        await File.WriteAllTextAsync(Path.Combine(_root, "notes.docx"), "notes");
        Assert.True(await lister.IsListedInPathOrderAsync(Path.Combine(_root, "notes.docx"), CancellationToken.None));
    }

    [Fact]
    public async Task Names_and_indices_resolve_to_the_models_class_indices()
    {
        var listing = await ListAsync("path,label\na.jpg,tench\nb.jpg,great white shark\nc.jpg,2\nd.jpg\n", ImageNetClasses.Names);

        Assert.Equal([0, 2, 2, null], listing.Images.Select(i => i.Label));
    }

    [Fact]
    public async Task A_custom_models_names_are_matched_loosely()
    {
        var listing = await ListAsync("a.jpg,Great Pyrenees\nb.jpg,abyssinian\nc.jpg,american bulldog\n", Pets);

        Assert.Equal([2, 0, 1], listing.Images.Select(i => i.Label));
    }

    [Theory]
    [InlineData("a.jpg,0\nb.jpg,5000\n", "line 2: class index 5000 is out of range 0..999")]
    [InlineData("a.jpg,tench\nb.jpg,unicorn\n", "line 2: unknown class 'unicorn'")]
    [InlineData("a.jpg,crane\n", "line 1: class name 'crane' is ambiguous")]
    [InlineData("path,label\na.jpg,-1\n", "line 2: class index -1 is out of range")]
    public async Task A_label_that_is_no_class_of_the_model_fails_the_listing_naming_the_line(string manifest, string problem)
    {
        var refused = await Assert.ThrowsAsync<DatasetException>(() => ListAsync(manifest, ImageNetClasses.Names));

        Assert.Contains(problem, refused.Message, StringComparison.Ordinal);
        Assert.Contains("manifest.csv", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_models_names_an_index_passes_and_a_name_is_refused()
    {
        Assert.Equal([7], (await ListAsync("a.jpg,7\n", null)).Images.Select(i => i.Label));

        var refused = await Assert.ThrowsAsync<DatasetException>(() => ListAsync("a.jpg,tench\n", null));
        Assert.Contains("line 1", refused.Message, StringComparison.Ordinal);
    }
}
