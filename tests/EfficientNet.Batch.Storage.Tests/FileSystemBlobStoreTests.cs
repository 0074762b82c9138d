using System.Diagnostics;

namespace EfficientNet.Batch.Storage.Tests;

public sealed class FileSystemBlobStoreTests : BlobStoreContract
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "effnet-fs-" + Guid.NewGuid().ToString("N"));

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new FileSystemBlobStore(_root));

    protected override Task DeleteStoreAsync()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_folder_many_pages_long_lists_whole_in_ordinal_order_past_empty_folders_and_folder_links()
    {
        // More children than a page's window, files and folders interleaved in sort order ("0005.json" < "0005/..."),
        // empty folders that hold no key (more of them in a row than a page), and a link to a folder (not followed).
        var keys = Enumerable.Range(0, 240).Select(i => $"big/{i:D4}.json")
            .Concat(Enumerable.Range(0, 240).Where(i => i % 7 == 0).Select(i => $"big/{i:D4}/inner.json"))
            .ToList();
        foreach (var key in keys)
        {
            await WriteTextAsync(key, key);
        }

        for (var i = 0; i < 12; i++)
        {
            Directory.CreateDirectory(Path.Combine(_root, "big", $"0100-empty-{i:D2}"));
        }

        Directory.CreateSymbolicLink(Path.Combine(_root, "big", "0050-link"), Path.Combine(_root, "big", "0007"));

        var listed = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Store.ListPageAsync("big/", token, pageSize: 5, Ct);
            Assert.InRange(page.Items.Count, token is null ? 1 : 0, 5);
            listed.AddRange(page.Items.Select(i => i.Key));
            token = page.ContinuationToken;
        }
        while (token is not null && ++pages < 1000);

        Assert.Equal(keys.Order(StringComparer.Ordinal), listed);
        Assert.Equal(keys.Where(k => k.StartsWith("big/01", StringComparison.Ordinal)).Order(StringComparer.Ordinal), await ListAllKeysAsync("big/01"));
    }

    [Fact]
    public async Task A_write_waits_while_another_process_holds_the_folder_lock()
    {
        await WriteTextAsync("jobs/state.json", "v1");
        var folder = Path.Combine(_root, "jobs");
        // util-linux flock(1) locks the folder itself, as FolderLock does: a real second process holding the lock.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", folder, "sh", "-c", "echo locked; read line"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync());

        var write = WriteTextAsync("jobs/state.json", "v2");
        await Task.Delay(300);
        Assert.False(write.IsCompleted, "the write went ahead while the folder was locked");
        Assert.Equal("v1", await ReadTextAsync("jobs/state.json"));

        await holder.StandardInput.WriteLineAsync("release");
        await holder.WaitForExitAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("v2", await ReadTextAsync("jobs/state.json"));
    }

    [Fact]
    public async Task Writes_and_deletes_leave_no_lock_or_temporary_files_in_the_folder()
    {
        await WriteTextAsync("copy/a.jpg", "a");
        await Store.WriteAsync("copy/a.jpg", new MemoryStream("b"u8.ToArray()), WriteCondition.Matches((await Store.GetPropertiesAsync("copy/a.jpg", Ct))!.ETag), Ct);
        await WriteTextAsync("copy/b.jpg", "b");
        Assert.True(await Store.DeleteAsync("copy/b.jpg", Ct));

        Assert.Equal(["a.jpg"], Directory.GetFileSystemEntries(Path.Combine(_root, "copy")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Deleting_the_last_object_of_a_folder_removes_the_emptied_folders_but_not_the_root()
    {
        await WriteTextAsync("keep.txt", "k");
        await WriteTextAsync("shards/job/shard-000000.jsonl", "0");
        await WriteTextAsync("shards/job/shard-000001.jsonl", "1");

        Assert.True(await Store.DeleteAsync("shards/job/shard-000000.jsonl", Ct));
        Assert.True(Directory.Exists(Path.Combine(_root, "shards", "job")), "a folder that still holds an object stays");
        Assert.True(await Store.DeleteAsync("shards/job/shard-000001.jsonl", Ct));
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName));

        Assert.True(await Store.DeleteAsync("keep.txt", Ct));
        Assert.True(Directory.Exists(_root), "the store's root is the location itself and stays");

        // A removed folder is simply created again by the next write.
        await WriteTextAsync("shards/job/shard-000000.jsonl", "again");
        Assert.Equal("again", await ReadTextAsync("shards/job/shard-000000.jsonl"));
        Assert.False(await Store.DeleteAsync("gone/never.txt", Ct));
    }

    [Fact]
    public async Task Writes_and_deletes_racing_in_one_folder_all_complete()
    {
        // Deletes that empty the folder remove it while other writes are creating it again.
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var key = $"race/deep/{i % 4}.txt";
            await WriteTextAsync(key, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Store.DeleteAsync(key, ct);
        });

        Assert.Empty(await ListAllKeysAsync("race/"));
    }

    [Fact]
    public async Task Leftover_temporary_files_of_a_crashed_writer_are_not_listed()
    {
        await WriteTextAsync("out/a.txt", "a");
        await File.WriteAllTextAsync(Path.Combine(_root, "out", ".~effnet-tmp.0123456789abcdef"), "half");

        Assert.Equal(["out/a.txt"], await ListAllKeysAsync(""));
    }

    [Fact]
    public async Task The_root_folder_is_created_by_the_first_write_not_by_reads()
    {
        Assert.Empty((await Store.ListPageAsync("", null, 10, Ct)).Items);
        Assert.Null(await Store.GetPropertiesAsync("x.txt", Ct));
        Assert.False(Directory.Exists(_root));

        await WriteTextAsync("deep/er/x.txt", "x");

        Assert.True(File.Exists(Path.Combine(_root, "deep", "er", "x.txt")));
    }

    [Fact]
    public void Describe_is_a_file_uri_of_the_absolute_root()
    {
        Assert.Equal("file://" + _root + "/a b/c.jpg", Store.Describe("a b/c.jpg"));
        Assert.Equal("file://" + _root, Store.Describe());
    }
}
