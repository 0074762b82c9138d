using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Tests;

public sealed class SpilledBaselineTests
{
    private static PredictionRecord Record(string path, int top1) => new()
    {
        Path = path,
        Top = [new PredictedClass(top1, $"class {top1}", 0.5f)],
        Fingerprint = new ImageFingerprint($"\"etag-{top1}\"", null, 100 + top1, DateTimeOffset.UnixEpoch),
    };

    private static ShardImage Image(string path, int? label = null) => new(path, label, new ImageFingerprint("\"now\"", null, 7, DateTimeOffset.UnixEpoch.AddDays(1)));

    [Fact]
    public async Task Images_come_back_in_listing_order_with_the_last_record_of_their_path_then_the_records_no_image_matched()
    {
        using var spilled = SpilledBaseline.Create(Guid.NewGuid(), partitions: 3);
        // 300 records, paths out of order, and for every tenth path a later record that must win.
        var paths = Enumerable.Range(0, 300).Select(i => $"dir{i % 7}/img{(i * 37) % 300:D4}.jpg").ToList();
        foreach (var (path, i) in paths.Select((p, i) => (p, i)))
        {
            spilled.AddRecord(Record(path, i));
        }

        foreach (var (path, i) in paths.Select((p, i) => (p, i)).Where(p => p.i % 10 == 0))
        {
            spilled.AddRecord(Record(path, 1000 + i));
        }

        // Today's listing: every third baseline path, backwards, one path twice, and images the baseline lacks.
        var listed = paths.Where((_, i) => i % 3 == 0).Reverse().Concat(["new/a.jpg", paths[0], "new/b.jpg"]).ToList();
        foreach (var (path, i) in listed.Select((p, i) => (p, i)))
        {
            spilled.AddImage(Image(path, i));
        }

        var images = new List<(ShardImage Image, PredictionRecord? Before)>();
        var removed = new List<string>();
        await spilled.JoinAsync(
            (image, before) =>
            {
                images.Add((image, before));
                return Task.CompletedTask;
            },
            record =>
            {
                removed.Add(record.Path);
                return Task.CompletedTask;
            },
            CancellationToken.None);

        Assert.Equal(listed, images.Select(i => i.Image.Path));
        Assert.Equal(Enumerable.Range(0, listed.Count).Select(i => (int?)i), images.Select(i => i.Image.Label));
        foreach (var (image, before) in images)
        {
            var index = paths.IndexOf(image.Path);
            Assert.Equal(index < 0 ? null : index % 10 == 0 ? 1000 + index : index, before?.Top1?.Index);
            Assert.Equal("\"now\"", image.Fingerprint!.ETag);
        }

        Assert.Equal(300, spilled.Records - 30);
        Assert.Equal(paths.Where((_, i) => i % 3 != 0).Order(StringComparer.Ordinal), removed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Partitions_left_empty_and_an_empty_listing_are_joined_and_the_files_are_removed()
    {
        string folder;
        var removed = new List<string>();
        using (var spilled = SpilledBaseline.Create(Guid.NewGuid(), partitions: 16))
        {
            folder = spilled.Folder;
            spilled.AddRecord(Record("a.jpg", 1));
            spilled.AddRecord(Record("b.jpg", 2));
            await spilled.JoinAsync(
                (_, _) => throw new InvalidOperationException("no image was listed"),
                record =>
                {
                    removed.Add(record.Path);
                    return Task.CompletedTask;
                },
                CancellationToken.None);
            Assert.True(Directory.Exists(folder));
        }

        Assert.Equal(["a.jpg", "b.jpg"], removed.Order(StringComparer.Ordinal));
        Assert.False(Directory.Exists(folder));
    }
}
