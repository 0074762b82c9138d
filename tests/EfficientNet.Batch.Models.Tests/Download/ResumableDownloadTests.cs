using System.Diagnostics;
using System.Text.Json;
using EfficientNet.Batch.Models.Download;
using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Tests.Download;

[Collection(RealClockDownloads.Name)]
public sealed class ResumableDownloadTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly LocalHttpServer _server = new();
    private readonly HttpClient _http = new();
    private readonly ModelStore _store;

    public ResumableDownloadTests() => _store = new ModelStore(_temp.Path);

    private string Staging => _temp.Sub("staging");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    private CheckpointDownloader Downloader(CheckpointDownloadSettings? settings = null) => new(_http, settings ?? TestSettings.Fast);

    private ModelPuller Puller() => new(Downloader(), new CheckpointImporter(_store), _store);

    [Fact]
    public async Task Body_cut_mid_way_is_resumed_with_a_range_request_and_imported()
    {
        var body = TestCheckpoints.B0;
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        _server.ServeFile(name, body, "\"b0\"", faults: BodyFault.CutAfter(body.Length / 2));
        var reporter = new RecordingPullReporter();

        await Puller().PullFromAsync("efficientnet_b0", [_server.UrlOf(name)], reporter, CancellationToken.None);

        Assert.Equal(2, _server.Requests.Count);
        Assert.Null(_server.Requests[0].Range);
        var resumedFrom = RangeStart(_server.Requests[1]);
        Assert.InRange(resumedFrom, 1, body.Length / 2);
        Assert.Equal("\"b0\"", _server.Requests[1].IfRange);
        Assert.StartsWith($"resume 1/3 /{name}: download interrupted after", reporter.Events[1], StringComparison.Ordinal);
        Assert.Equal($"ok /{name}", reporter.Events[^1]);
        // Progress never goes back: the resumed attempt starts from the bytes kept.
        Assert.Equal(reporter.Progress.Select(p => p.BytesReceived).Order(), reporter.Progress.Select(p => p.BytesReceived));
        Assert.Contains(new DownloadProgress(resumedFrom, body.Length), reporter.Progress);
        Assert.Equal(new DownloadProgress(body.Length, body.Length), reporter.Progress[^1]);
        Assert.Equal(TestFiles.Sha256(body), await SourceSha256Async("efficientnet_b0"));
        Assert.Empty(TestFiles.FilesUnder(Puller().StagingDirectory));
    }

    [Fact]
    public async Task Stall_longer_than_the_stall_timeout_fails_the_attempt_and_the_next_one_resumes()
    {
        var body = TestFiles.RandomBytes(300_000, 11);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        _server.ServeFile(name, body, faults: BodyFault.StallAfter(100_000));
        var downloader = Downloader(TestSettings.Fast with { StallTimeout = TimeSpan.FromMilliseconds(300) });

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));
        clock.Stop();
        using var download = await downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None);

        Assert.Equal(DownloadFailure.Interrupted, error.Failure);
        Assert.Contains("no data for 300 ms", error.Reason, StringComparison.Ordinal);
        Assert.Contains("kept to resume", error.Reason, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the stall was noticed after {clock.Elapsed}");
        Assert.InRange(RangeStart(_server.Requests[1]), 1, 100_000);
        Assert.Equal(body, await File.ReadAllBytesAsync(download.Path));
        Assert.Equal(TestFiles.Sha256(body), download.Sha256);
    }

    [Fact]
    public async Task Server_that_ignores_range_makes_the_download_start_over_and_the_file_is_still_right()
    {
        var body = TestFiles.RandomBytes(300_000, 12);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        _server.ServeFile(name, body, honourRange: false, faults: BodyFault.CutAfter(100_000));
        var downloader = Downloader();
        var progress = new RecordingPullReporter();

        await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));
        using var download = await downloader.DownloadAsync(_server.UrlOf(name), Staging, progress, CancellationToken.None);

        Assert.NotNull(_server.Requests[1].Range);
        Assert.Equal(body, await File.ReadAllBytesAsync(download.Path));
        Assert.Equal(TestFiles.Sha256(body), download.Sha256);
        Assert.Equal(new DownloadProgress(0, body.Length), progress.Progress[0]);
    }

    [Fact]
    public async Task Changed_file_is_downloaded_whole_without_mixing_old_and_new_bytes()
    {
        var oldBody = TestFiles.RandomBytes(300_000, 13);
        var newBody = TestFiles.RandomBytes(300_000, 14);
        var name = TestFiles.HonestName("efficientnet_b0_test", newBody);
        _server.ServeFile(name, oldBody, "\"old\"", faults: BodyFault.CutAfter(100_000));
        var downloader = Downloader();
        await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));
        _server.ServeFile(name, newBody, "\"new\"");

        using var download = await downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None);

        Assert.Equal("\"old\"", _server.Requests[1].IfRange);
        Assert.Equal(newBody, await File.ReadAllBytesAsync(download.Path));
        Assert.Equal(TestFiles.Sha256(newBody), download.Sha256);
    }

    [Fact]
    public async Task Partial_left_by_a_killed_process_is_resumed_by_the_next_pull()
    {
        var body = TestCheckpoints.B0;
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        var url = _server.UrlOf(name);
        _server.ServeFile(name, body, "\"b0\"");
        var puller = Puller();
        const int kept = 1_000_000;
        var partial = PartialDownload.For(url, puller.StagingDirectory);
        Directory.CreateDirectory(puller.StagingDirectory);
        await File.WriteAllBytesAsync(partial.Path, body[..kept]);
        await partial.WriteOriginAsync(new PartialOrigin(url.AbsoluteUri, "\"b0\"", body.Length), CancellationToken.None);
        var reporter = new RecordingPullReporter();

        await puller.PullFromAsync("efficientnet_b0", [url], reporter, CancellationToken.None);

        Assert.Equal([new RecordedRequest("/" + name, $"bytes={kept}-", "\"b0\"")], _server.Requests);
        Assert.Equal(new DownloadProgress(kept, body.Length), reporter.Progress[0]);
        Assert.Equal(TestFiles.Sha256(body), await SourceSha256Async("efficientnet_b0"));
        Assert.Empty(TestFiles.FilesUnder(puller.StagingDirectory));
    }

    [Fact]
    public async Task Hash_mismatch_after_a_resume_deletes_the_partial_so_the_next_try_starts_over()
    {
        var body = TestFiles.RandomBytes(300_000, 15);
        var name = TestFiles.DishonestName("efficientnet_b0_test", body);
        _server.ServeFile(name, body, faults: BodyFault.CutAfter(100_000));
        var downloader = Downloader();
        var interrupted = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));
        Assert.NotEmpty(TestFiles.FilesUnder(Staging));

        var mismatch = await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));
        var staged = TestFiles.FilesUnder(Staging);
        await Assert.ThrowsAsync<CheckpointDownloadException>(
            () => downloader.DownloadAsync(_server.UrlOf(name), Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.Interrupted, interrupted.Failure);
        Assert.Equal(DownloadFailure.HashMismatch, mismatch.Failure);
        Assert.Contains(TestFiles.Sha256(body), mismatch.Message, StringComparison.Ordinal);
        Assert.NotNull(_server.Requests[1].Range);
        Assert.Empty(staged);
        Assert.Null(_server.Requests[2].Range);
        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task Range_the_server_cannot_satisfy_makes_the_download_start_over()
    {
        var body = TestFiles.RandomBytes(100_000, 16);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        var url = _server.UrlOf(name);
        _server.ServeFile(name, body);
        // Longer than the file, length unknown: the resume asks for a range past the end.
        var partial = PartialDownload.For(url, Staging);
        Directory.CreateDirectory(Staging);
        await File.WriteAllBytesAsync(partial.Path, TestFiles.RandomBytes(150_000, 17));
        await partial.WriteOriginAsync(new PartialOrigin(url.AbsoluteUri, "\"v1\"", null), CancellationToken.None);

        using var download = await Downloader().DownloadAsync(url, Staging, null, CancellationToken.None);

        Assert.Equal(["bytes=150000-", null], _server.Requests.Select(r => r.Range));
        Assert.Equal(body, await File.ReadAllBytesAsync(download.Path));
    }

    [Fact]
    public async Task Complete_partial_a_killed_process_did_not_verify_is_verified_without_downloading()
    {
        var body = TestFiles.RandomBytes(100_000, 18);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        var url = _server.UrlOf(name);
        var partial = PartialDownload.For(url, Staging);
        Directory.CreateDirectory(Staging);
        await File.WriteAllBytesAsync(partial.Path, body);
        await partial.WriteOriginAsync(new PartialOrigin(url.AbsoluteUri, "\"v1\"", body.Length), CancellationToken.None);

        using var download = await Downloader().DownloadAsync(url, Staging, null, CancellationToken.None);

        Assert.Empty(_server.Requests);
        Assert.Equal(TestFiles.Sha256(body), download.Sha256);
    }

    [Fact]
    public async Task Server_that_never_answers_fails_after_the_response_timeout()
    {
        _server.ServeNoAnswer("efficientnet_b0-12345678.pth");

        var error = await Assert.ThrowsAsync<CheckpointDownloadException>(() => Downloader(TestSettings.Fast with
        {
            ResponseTimeout = TimeSpan.FromMilliseconds(300),
        }).DownloadAsync(_server.UrlOf("efficientnet_b0-12345678.pth"), Staging, null, CancellationToken.None));

        Assert.Equal(DownloadFailure.Connection, error.Failure);
        Assert.Equal("no response within 300 ms", error.Reason);
        Assert.Empty(TestFiles.FilesUnder(Staging));
    }

    [Fact]
    public async Task Slow_body_that_keeps_coming_has_no_overall_deadline()
    {
        var body = TestFiles.RandomBytes(100_000, 19);
        var name = TestFiles.HonestName("efficientnet_b0_test", body);
        // About 6 s in all, 1.5 times the stall timeout; each gap is a fortieth of it. (With a 2 s stall timeout, one
        // full-suite run on the loaded 2-core machine delayed the last chunk past it: the test process's thread pool
        // was busy with the other tests.)
        _server.ServeSlowly(name, body, chunks: 40, gap: TimeSpan.FromMilliseconds(150));
        var settings = TestSettings.Fast with { StallTimeout = TimeSpan.FromSeconds(4) };

        var progress = new RecordingPullReporter();

        using var download = await Downloader(settings).DownloadAsync(_server.UrlOf(name), Staging, progress, CancellationToken.None);

        Assert.Equal(body, await File.ReadAllBytesAsync(download.Path));
        // The bytes really trickled in (a server that sent them all at the end would prove nothing).
        Assert.True(progress.Progress.Count > 10, $"{progress.Progress.Count} progress reports");
    }

    private static long RangeStart(RecordedRequest request)
    {
        Assert.NotNull(request.Range);
        Assert.Matches("^bytes=[0-9]+-$", request.Range);
        return long.Parse(request.Range["bytes=".Length..^1]);
    }

    private async Task<string?> SourceSha256Async(string modelId)
    {
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(_store.ImportedManifestPath(modelId)));
        return manifest.RootElement.GetProperty("source_sha256").GetString();
    }
}
