using System.Text;

namespace EfficientNet.Batch.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IBlobStore"/> must have, run against each implementation by a subclass.
/// Each test gets a fresh, empty store.
/// </summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected IBlobStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>A new, empty store for one test.</summary>
    protected abstract Task<IBlobStore> CreateStoreAsync();

    protected abstract Task DeleteStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public Task DisposeAsync() => DeleteStoreAsync();

    [Fact]
    public async Task Listing_pages_through_keys_under_a_prefix_in_ordinal_order()
    {
        string[] keys =
        [
            "data/b.jpg", "data/a.jpg", "data/B.jpg", "data/sub/c.jpg", "data/sub/deeper/d.png", "data/sub-x.jpg",
            "data/sub.txt", "data/z", "data.txt", "data0/e.jpg", "other/f.jpg",
        ];
        foreach (var key in keys)
        {
            await WriteTextAsync(key, key);
        }

        var pages = new List<BlobPage>();
        string? token = null;
        do
        {
            var page = await Store.ListPageAsync("data/", token, pageSize: 3, Ct);
            pages.Add(page);
            token = page.ContinuationToken;
        }
        while (token is not null && pages.Count < 100);

        var expected = keys.Where(k => k.StartsWith("data/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, pages.SelectMany(p => p.Items).Select(i => i.Key).ToList());
        Assert.Equal(3, pages.Count);
        Assert.All(pages, p => Assert.InRange(p.Items.Count, 1, 3));
    }

    [Fact]
    public async Task Listing_with_a_partial_name_prefix_matches_across_folders()
    {
        foreach (var key in new[] { "img/cat1.jpg", "img/cat/2.jpg", "img/car.jpg", "img/dog.jpg", "imgs/cat.jpg" })
        {
            await WriteTextAsync(key, key);
        }

        var page = await Store.ListPageAsync("img/ca", null, 100, Ct);

        Assert.Equal(["img/car.jpg", "img/cat/2.jpg", "img/cat1.jpg"], page.Items.Select(i => i.Key));
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Listing_reports_the_same_size_and_etag_as_the_write_and_properties()
    {
        var written = await WriteTextAsync("a/one.json", "{\"x\":1}");

        var listed = Assert.Single((await Store.ListPageAsync("", null, 10, Ct)).Items);
        var properties = await Store.GetPropertiesAsync("a/one.json", Ct);

        Assert.Equal(7, written.Size);
        Assert.Equal(written with { LastModified = default }, listed with { LastModified = default });
        Assert.Equal(written.ETag, properties!.ETag);
        Assert.Equal(7, properties.Size);
    }

    [Fact]
    public async Task Listing_an_empty_prefix_of_an_unused_store_returns_nothing()
    {
        var page = await Store.ListPageAsync("nothing/here/", null, 10, Ct);

        Assert.Empty(page.Items);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Reading_a_missing_object_throws_BlobNotFoundException()
    {
        await WriteTextAsync("present.txt", "x");

        var error = await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("absent.txt", Ct));

        Assert.Equal("absent.txt", error.Key);
        Assert.Null(await Store.GetPropertiesAsync("absent.txt", Ct));
        // A folder is not an object either.
        await WriteTextAsync("folder/inside.txt", "x");
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("folder", Ct));
    }

    [Fact]
    public async Task Keys_with_apostrophes_spaces_and_accents_round_trip()
    {
        const string key = "it's here/l'été 1 (copy).jpg";

        await WriteTextAsync(key, "content");

        Assert.Equal("content", await ReadTextAsync(key));
        Assert.Equal(key, Assert.Single((await Store.ListPageAsync("it's", null, 10, Ct)).Items).Key);
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("a/../../escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a\\b")]
    [InlineData("folder/")]
    [InlineData("")]
    [InlineData(".~effnet-tmp.x")]
    public async Task Keys_that_are_not_plain_relative_paths_are_rejected(string key)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.OpenReadAsync(key, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteAsync(key, new MemoryStream([1]), WriteCondition.None, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DeleteAsync(key, Ct));
    }

    [Fact]
    public async Task Writing_if_absent_twice_fails_the_second_time_and_keeps_the_first_content()
    {
        await WriteTextAsync("once.txt", "first", WriteCondition.Absent);

        await Assert.ThrowsAsync<BlobConditionFailedException>(() => WriteTextAsync("once.txt", "second", WriteCondition.Absent));

        Assert.Equal("first", await ReadTextAsync("once.txt"));
    }

    [Fact]
    public async Task Writing_if_match_fails_with_a_stale_etag_and_succeeds_with_the_current_one()
    {
        var first = await WriteTextAsync("state.json", "v1");
        var second = await WriteTextAsync("state.json", "v2", WriteCondition.Matches(first.ETag));

        await Assert.ThrowsAsync<BlobConditionFailedException>(() => WriteTextAsync("state.json", "v3", WriteCondition.Matches(first.ETag)));
        Assert.Equal("v2", await ReadTextAsync("state.json"));

        var third = await WriteTextAsync("state.json", "v3", WriteCondition.Matches(second.ETag));
        Assert.Equal("v3", await ReadTextAsync("state.json"));
        Assert.Equal(third.ETag, (await Store.GetPropertiesAsync("state.json", Ct))!.ETag);
    }

    [Fact]
    public async Task Writing_if_match_on_a_missing_object_fails()
    {
        var gone = await WriteTextAsync("gone.txt", "x");
        await Store.DeleteAsync("gone.txt", Ct);

        await Assert.ThrowsAsync<BlobConditionFailedException>(() => WriteTextAsync("gone.txt", "y", WriteCondition.Matches(gone.ETag)));
        Assert.Null(await Store.GetPropertiesAsync("gone.txt", Ct));
    }

    [Fact]
    public async Task Every_write_changes_the_etag_even_with_identical_content()
    {
        var etags = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(etags.Add((await WriteTextAsync("same.txt", "identical")).ETag));
        }
    }

    [Fact]
    public async Task Concurrent_if_absent_writers_have_exactly_one_winner()
    {
        const int writers = 12;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            try
            {
                await WriteTextAsync("lease.txt", $"writer {i}", WriteCondition.Absent);
                return i;
            }
            catch (BlobConditionFailedException)
            {
                return -1;
            }
        })));

        var winner = Assert.Single(outcomes, o => o >= 0);
        Assert.Equal($"writer {winner}", await ReadTextAsync("lease.txt"));
    }

    [Fact]
    public async Task Concurrent_if_match_updates_lose_no_increment()
    {
        await WriteTextAsync("counter.txt", "0");
        const int workers = 6;
        const int incrementsEach = 4;

        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            for (var done = 0; done < incrementsEach;)
            {
                var etag = (await Store.GetPropertiesAsync("counter.txt", Ct))!.ETag;
                var value = int.Parse(await ReadTextAsync("counter.txt"));
                try
                {
                    await WriteTextAsync("counter.txt", (value + 1).ToString(), WriteCondition.Matches(etag));
                    done++;
                }
                catch (BlobConditionFailedException)
                {
                    // Someone else won this round: re-read and retry.
                }
            }
        })));

        Assert.Equal(workers * incrementsEach, int.Parse(await ReadTextAsync("counter.txt")));
    }

    [Fact]
    public async Task Commit_is_invisible_until_complete_and_leaves_no_temporary_objects()
    {
        await WriteTextAsync("results/other.txt", "x");
        var halfWritten = new TaskCompletionSource();
        var mayFinish = new TaskCompletionSource();
        var payload = Payload('r', 5 * 1024 * 1024 + 123); // more than one Azure block

        var commit = Store.CommitAsync("results/predictions.jsonl", async (stream, ct) =>
        {
            await stream.WriteAsync(payload.AsMemory(0, payload.Length / 2), ct);
            await stream.FlushAsync(ct); // must not publish anything
            halfWritten.SetResult();
            await mayFinish.Task;
            await stream.WriteAsync(payload.AsMemory(payload.Length / 2), ct);
        }, Ct);

        await halfWritten.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["results/other.txt"], await ListAllKeysAsync("results/"));
        Assert.Equal(["results/other.txt"], await ListAllKeysAsync(""));
        Assert.Null(await Store.GetPropertiesAsync("results/predictions.jsonl", Ct));

        mayFinish.SetResult();
        var entry = await commit;

        Assert.Equal(payload.Length, entry.Size);
        Assert.Equal(payload, await ReadBytesAsync("results/predictions.jsonl"));
        Assert.Equal(["results/other.txt", "results/predictions.jsonl"], await ListAllKeysAsync(""));
    }

    [Fact]
    public async Task Readers_see_the_old_or_the_new_content_while_a_commit_replaces_it()
    {
        var oldContent = Payload('o', 5 * 1024 * 1024);
        var newContent = Payload('n', 5 * 1024 * 1024 + 7);
        await Store.WriteAsync("big.bin", new MemoryStream(oldContent), WriteCondition.None, Ct);
        using var stop = new CancellationTokenSource();

        var reader = Task.Run(async () =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested || reads == 0)
            {
                var seen = await ReadBytesAsync("big.bin");
                Assert.True(seen.AsSpan().SequenceEqual(oldContent) || seen.AsSpan().SequenceEqual(newContent),
                    $"read {seen.Length} bytes that are neither version");
                reads++;
            }

            return reads;
        });
        await Store.CommitAsync("big.bin", async (stream, ct) =>
        {
            for (var offset = 0; offset < newContent.Length; offset += 1024 * 1024)
            {
                await stream.WriteAsync(newContent.AsMemory(offset, Math.Min(1024 * 1024, newContent.Length - offset)), ct);
                await Task.Delay(20, ct); // give the reader time to look at an in-flight commit
            }
        }, Ct);
        stop.Cancel();

        Assert.True(await reader > 0);
        Assert.Equal(newContent, await ReadBytesAsync("big.bin"));
    }

    [Fact]
    public async Task A_commit_that_fails_midway_keeps_the_previous_content()
    {
        await WriteTextAsync("summary.json", "previous");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitAsync("summary.json", async (stream, ct) =>
        {
            await stream.WriteAsync("partial"u8.ToArray(), ct);
            throw new InvalidOperationException("producer failed");
        }, Ct));

        Assert.Equal("previous", await ReadTextAsync("summary.json"));
        Assert.Equal(["summary.json"], await ListAllKeysAsync(""));
    }

    [Fact]
    public async Task Commit_accepts_a_producer_that_disposes_the_stream()
    {
        await Store.CommitAsync("lines.txt", async (stream, ct) =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            await writer.WriteLineAsync("line one".AsMemory(), ct);
            await writer.WriteLineAsync("line two".AsMemory(), ct);
        }, Ct);

        Assert.Equal("line one\nline two\n", (await ReadTextAsync("lines.txt")).ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Empty_content_is_a_valid_object()
    {
        var entry = await Store.WriteAsync("empty.txt", new MemoryStream(), WriteCondition.Absent, Ct);

        Assert.Equal(0, entry.Size);
        Assert.Equal("", await ReadTextAsync("empty.txt"));
    }

    [Fact]
    public async Task Delete_removes_an_object_and_reports_whether_it_existed()
    {
        await WriteTextAsync("a/keep.txt", "k");
        await WriteTextAsync("a/drop.txt", "d");

        Assert.True(await Store.DeleteAsync("a/drop.txt", Ct));
        Assert.False(await Store.DeleteAsync("a/drop.txt", Ct));
        Assert.False(await Store.DeleteAsync("never/was.txt", Ct));

        Assert.Equal(["a/keep.txt"], await ListAllKeysAsync(""));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("a/drop.txt", Ct));
    }

    [Fact]
    public async Task Describe_names_the_store_and_the_key()
    {
        var described = Store.Describe("x/y.json");

        Assert.EndsWith("/x/y.json", described, StringComparison.Ordinal);
        Assert.StartsWith(Store.Describe(), described, StringComparison.Ordinal);
        Assert.Matches("^(az|file)://", described);
    }

    protected Task<BlobEntry> WriteTextAsync(string key, string text, WriteCondition condition = default) =>
        Store.WriteAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(text)), condition, Ct);

    protected async Task<string> ReadTextAsync(string key) => Encoding.UTF8.GetString(await ReadBytesAsync(key));

    protected async Task<byte[]> ReadBytesAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(key, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    protected async Task<List<string>> ListAllKeysAsync(string prefix)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.ListPageAsync(prefix, token, 1000, Ct);
            keys.AddRange(page.Items.Select(i => i.Key));
            token = page.ContinuationToken;
        }
        while (token is not null);

        return keys;
    }

    private static byte[] Payload(char fill, int length)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill((byte)fill);
        // Mark block boundaries so that a reordered or missing block would not compare equal.
        for (var i = 0; i < length; i += 4096)
        {
            bytes[i] = (byte)(i / 4096 % 251);
        }

        return bytes;
    }
}
