using EfficientNet.Batch.Models.Download;

namespace EfficientNet.Batch.Models.Tests.Download;

[Collection(RealClockDownloads.Name)]
public sealed class CheckpointDownloaderTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly LocalHttpServer _server = new();
    private readonly HttpClient _http = new();

    private string Staging => _temp.Sub("staging");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task File_whose_hash_matches_its_name_is_downloaded_intact_with_progress()
    {
        var body = TestFiles.RandomBytes(300_000, 1);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        _server.Serve(name, body);
        var progress = new RecordingPullReporter();

        using var download = await new CheckpointDownloader(_http).DownloadAsync(_server.UrlOf(name), Staging, progress, CancellationToken.None);

        Assert.Equal(name, download.FileName);
        Assert.Equal(body, await File.ReadAllBytesAsync(download.Path));
        Assert.Equal(TestFiles.Sha256(body), download.Sha256);
        Assert.Equal(body.Length, download.Length);
        Assert.Equal(new DownloadProgress(body.Length, body.Length), progress.Progress[^1]);
        Assert.True(progress.Progress.Count > 1);
    }

    [Fact]
    public async Task Disposing_a_download_deletes_its_temp_file()
    {
        var body = TestFiles.RandomBytes(1000, 2);
        var name = TestFiles.HonestName("x", body);
        _server.Serve(name, body);

        var download = await new CheckpointDownloader(_http).DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None);
        download.Dispose();

        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task File_whose_hash_differs_from_its_name_is_rejected_and_deleted()
    {
        var body = TestFiles.RandomBytes(50_000, 3);
        var name = TestFiles.DishonestName("efficientnet_b0_test", body);
        _server.Serve(name, body);

        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => new CheckpointDownloader(_http).DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.HashMismatch, error.Failure);
        Assert.Contains(TestFiles.Sha256(body), error.Message, StringComparison.Ordinal);
        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task Response_cut_short_is_an_interrupted_download_that_leaves_nothing()
    {
        var body = TestFiles.RandomBytes(400_000, 4);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        _server.ServeCutShort(name, body, sentBytes: 100_000);

        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => new CheckpointDownloader(_http).DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.Interrupted, error.Failure);
        Assert.Contains("400,000", error.Message, StringComparison.Ordinal);
        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task Body_shorter_than_its_content_length_is_refused_even_when_the_handler_does_not_notice()
    {
        var body = TestFiles.RandomBytes(1000, 6);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        // Sockets enforce Content-Length themselves; other handlers (mirrors' proxies, test doubles) may not.
        using var http = new HttpClient(new ShortBodyHandler(body, announcedLength: 5000));

        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => new CheckpointDownloader(http).DownloadAsync(new Uri("http://mirror.invalid/" + name), Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.Interrupted, error.Failure);
        Assert.Contains("received 1,000 of 5,000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task Http_error_status_is_reported_with_its_code()
    {
        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => new CheckpointDownloader(_http).DownloadAsync(_server.UrlOf("missing-12345678.pth"), Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.HttpStatus, error.Failure);
        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task Refused_connection_is_a_connection_failure()
    {
        var closedPort = new Uri($"http://127.0.0.1:{ClosedPort()}/efficientnet_b0-12345678.pth");

        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => new CheckpointDownloader(_http).DownloadAsync(closedPort, Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.Connection, error.Failure);
    }

    [Fact]
    public async Task Url_without_a_hash_in_its_name_is_refused_before_downloading()
    {
        await Assert.ThrowsAsync<ArgumentException>(
            () => new CheckpointDownloader(_http).DownloadAsync(_server.UrlOf("model.pth"), Staging, null, CancellationToken.None));

        Assert.Empty(_server.RequestedPaths);
    }

    private static int ClosedPort()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}

public sealed class CheckpointMirrorTests
{
    [Fact]
    public void Mirror_replaces_the_openmmlab_prefix_and_keeps_the_file_name()
    {
        var mirror = CheckpointMirror.Resolve("http://127.0.0.1:9000/mirror");

        var url = CheckpointMirror.Apply(
            "https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet_b0_20200902-fbd07c93.pth", mirror);

        Assert.Equal("http://127.0.0.1:9000/mirror/efficientnet_b0_20200902-fbd07c93.pth", url.ToString());
    }

    [Fact]
    public void Without_a_mirror_the_catalogue_url_is_used()
    {
        const string original = "https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet_b0_20200902-fbd07c93.pth";

        Assert.Equal(original, CheckpointMirror.Apply(original, null).ToString());
    }

    [Fact]
    public void Mirror_that_is_not_an_http_url_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => CheckpointMirror.Resolve("ftp://example.org/x"));
    }
}

internal sealed class ShortBodyHandler(byte[] body, long announcedLength) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentLength = announcedLength;
        return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content });
    }
}
