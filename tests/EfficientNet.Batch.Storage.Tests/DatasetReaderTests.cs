using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Storage.Tests;

/// <summary>Dataset reading over the file-system store; the store contract makes the Azure store equivalent.</summary>
public sealed class DatasetReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-dataset-").FullName;
    private readonly DatasetReader _reader = new(new StorageResolver(Options.Create(new StorageOptions())));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_folder_yields_its_images_recursively_in_ordinal_order_and_counts_other_files()
    {
        Touch("cats/b.jpg", "cats/A.JPEG", "cats/it's.png", "dogs/deep/c.webp", "d.TIF", "e.bmp", "f.gif", "g.tiff",
            "notes.txt", "cats/.DS_Store", "model.onnx");

        var dataset = await _reader.OpenAsync(_root, CancellationToken.None);
        var items = await ReadAllAsync(dataset);

        Assert.Equal(DatasetKind.Folder, dataset.Kind);
        Assert.Equal(
            ["cats/A.JPEG", "cats/b.jpg", "cats/it's.png", "d.TIF", "dogs/deep/c.webp", "e.bmp", "f.gif", "g.tiff"],
            items.Select(i => i.Path));
        Assert.All(items, i => Assert.Null(i.Label));
        Assert.Equal(3, dataset.SkippedNonImageFiles);
        Assert.Equal(8, dataset.ItemCount);
        Assert.Equal("file://" + _root, dataset.RootLocation);
    }

    [Fact]
    public async Task A_subfolder_location_yields_paths_relative_to_that_subfolder()
    {
        Touch("train/x/1.jpg", "train/2.png", "test/3.jpg");

        var dataset = await _reader.OpenAsync(Path.Combine(_root, "train"), CancellationToken.None);

        Assert.Equal(["2.png", "x/1.jpg"], (await ReadAllAsync(dataset)).Select(i => i.Path));
    }

    [Fact]
    public async Task A_folder_with_more_images_than_one_listing_page_is_read_completely()
    {
        var names = Enumerable.Range(0, Dataset.ListPageSize + 10).Select(i => $"img{i:D5}.jpg").ToArray();
        Touch(names);

        var dataset = await _reader.OpenAsync(_root, CancellationToken.None);

        Assert.Equal(names, (await ReadAllAsync(dataset)).Select(i => i.Path));
    }

    [Fact]
    public async Task A_manifest_yields_its_paths_relative_to_its_folder_with_labels_and_counts_duplicates()
    {
        Directory.CreateDirectory(Path.Combine(_root, "set"));
        var manifest = Path.Combine(_root, "set", "val.csv");
        await File.WriteAllTextAsync(manifest, "path,label\nimgs/b.jpg,2\nimgs/a.jpg,1\nimgs/b.jpg,2\nl'image.png\n");

        var dataset = await _reader.OpenAsync("file://" + manifest, CancellationToken.None);
        var items = await ReadAllAsync(dataset);

        Assert.Equal(DatasetKind.Manifest, dataset.Kind);
        Assert.Equal(
            [
                new DatasetItem("imgs/b.jpg", 2, LineNumber: 2),
                new DatasetItem("imgs/a.jpg", 1, LineNumber: 3),
                new DatasetItem("imgs/b.jpg", 2, LineNumber: 4),
                new DatasetItem("l'image.png", null, LineNumber: 5),
            ],
            items);
        Assert.Equal("file://" + Path.Combine(_root, "set"), dataset.RootLocation);
        Assert.Equal(0, dataset.SkippedNonImageFiles);
    }

    [Fact]
    public async Task Enumerating_again_gives_the_same_items_and_counts()
    {
        Touch("a.jpg", "b.txt");
        var dataset = await _reader.OpenAsync(_root, CancellationToken.None);

        var first = await ReadAllAsync(dataset);
        var second = await ReadAllAsync(dataset);

        Assert.Equal(first, second);
        Assert.Equal(1, dataset.SkippedNonImageFiles);
    }

    [Fact]
    public async Task A_single_image_location_is_a_dataset_of_one()
    {
        Touch("only.jpeg");

        var dataset = await _reader.OpenAsync(Path.Combine(_root, "only.jpeg"), CancellationToken.None);

        Assert.Equal(DatasetKind.SingleImage, dataset.Kind);
        Assert.Equal([new DatasetItem("only.jpeg", null)], await ReadAllAsync(dataset));
    }

    [Fact]
    public async Task A_single_file_that_is_neither_manifest_nor_image_is_rejected()
    {
        Touch("weights.onnx");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _reader.OpenAsync(Path.Combine(_root, "weights.onnx"), CancellationToken.None));

        Assert.Contains("weights.onnx", error.Message, StringComparison.Ordinal);
    }

    private void Touch(params string[] relativePaths)
    {
        foreach (var relative in relativePaths)
        {
            var path = Path.Combine(_root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, [1, 2, 3]);
        }
    }

    private static async Task<List<DatasetItem>> ReadAllAsync(Dataset dataset)
    {
        var items = new List<DatasetItem>();
        await foreach (var item in dataset.ReadItemsAsync(CancellationToken.None))
        {
            items.Add(item);
        }

        return items;
    }
}
