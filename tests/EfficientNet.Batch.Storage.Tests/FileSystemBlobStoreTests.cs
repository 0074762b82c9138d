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
    public async Task A_write_waits_while_another_process_holds_the_folder_lock()
    {
        await WriteTextAsync("jobs/state.json", "v1");
        // flock is per open file: this handle stands in for another process holding the lock.
        var foreignLock = new FileStream(Path.Combine(_root, "jobs", ".~effnet.lock"), FileMode.Open, FileAccess.ReadWrite, FileShare.None);

        var write = WriteTextAsync("jobs/state.json", "v2");
        await Task.Delay(300);
        Assert.False(write.IsCompleted, "the write went ahead while the folder was locked");
        Assert.Equal("v1", await ReadTextAsync("jobs/state.json"));

        await foreignLock.DisposeAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("v2", await ReadTextAsync("jobs/state.json"));
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
