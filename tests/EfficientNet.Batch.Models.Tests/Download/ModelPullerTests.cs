using System.Text.Json;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Download;
using EfficientNet.Batch.Models.Store;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Models.Tests.Download;

[Collection(RealClockDownloads.Name)]
public sealed class ModelPullerTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly LocalHttpServer _server = new();
    private readonly HttpClient _http = new();
    private readonly ModelStore _store;

    public ModelPullerTests() => _store = new ModelStore(_temp.Path);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    private ModelPuller Puller(Uri? mirror = null) =>
        new(new CheckpointDownloader(_http, TestSettings.Fast), new CheckpointImporter(_store), _store, mirror);

    [Fact]
    public async Task Pull_skips_a_missing_and_a_mismatched_checkpoint_then_imports_a_real_one()
    {
        var wrongArch = TestFiles.HonestName("efficientnet_es_test", TestCheckpoints.Es);
        var good = TestFiles.HonestName("efficientnet_b0_test", TestCheckpoints.B0);
        _server.Serve(wrongArch, TestCheckpoints.Es);
        _server.Serve(good, TestCheckpoints.B0);
        var reporter = new RecordingPullReporter();

        var model = await Puller().PullFromAsync(
            "efficientnet_b0", [_server.UrlOf("gone-12345678.pth"), _server.UrlOf(wrongArch), _server.UrlOf(good)], reporter, CancellationToken.None);

        Assert.Equal(["/gone-12345678.pth", "/" + wrongArch, "/" + good], _server.RequestedPaths);
        Assert.Equal(8, reporter.Events.Count);
        Assert.StartsWith("failed /gone-12345678.pth: HTTP 404", reporter.Events[1], StringComparison.Ordinal);
        Assert.StartsWith($"failed /{wrongArch}: Checkpoint does not match efficientnet_b0", reporter.Events[4], StringComparison.Ordinal);
        Assert.Equal($"ok /{good}", reporter.Events[^1]);
        Assert.Equal(_store.ImportedOnnxPath("efficientnet_b0"), model.OnnxPath);
        Assert.False(model.Untrained);
        using (var session = new InferenceSession(model.OnnxPath))
        {
            Assert.Equal([-1, 3, 224, 224], session.InputMetadata["input"].Dimensions);
        }

        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(_store.ImportedManifestPath("efficientnet_b0")));
        Assert.Equal(good, manifest.RootElement.GetProperty("source_file").GetString());
        Assert.Equal(TestFiles.Sha256(TestCheckpoints.B0), manifest.RootElement.GetProperty("source_sha256").GetString());
        Assert.Empty(TestFiles.FilesUnder(Puller().StagingDirectory));
    }

    [Fact]
    public async Task Catalogue_pull_tries_the_seed_url_then_the_released_one_under_the_mirror_and_lists_both_failures()
    {
        var variant = ModelCatalogue.Get("efficientnet_b0");
        var seedName = Path.GetFileName(variant.CheckpointUrls[0]);
        var releasedName = Path.GetFileName(variant.CheckpointUrls[1]);
        // Any bytes served under the seed's name fail its hash check; the released file is absent.
        _server.Serve("mirror/" + seedName, TestFiles.RandomBytes(10_000, 5));
        var reporter = new RecordingPullReporter();

        var error = await Assert.ThrowsAsync<ModelDownloadFailedException>(
            () => Puller(new Uri(_server.BaseUrl, "mirror/")).PullAsync("efficientnet_b0", reporter, CancellationToken.None));

        Assert.Equal(["/mirror/" + seedName, "/mirror/" + releasedName], _server.RequestedPaths);
        Assert.Equal(2, error.Attempts.Count);
        Assert.Contains("SHA-256 mismatch", error.Attempts[0].Reason, StringComparison.Ordinal);
        Assert.Contains("HTTP 404", error.Attempts[1].Reason, StringComparison.Ordinal);
        Assert.Contains("effnet models import FILE --model efficientnet_b0", error.Message, StringComparison.Ordinal);
        Assert.Equal(["start 1/2 /mirror/" + seedName, "failed", "start 2/2 /mirror/" + releasedName, "failed"],
            reporter.Events.Select(e => e.StartsWith("failed", StringComparison.Ordinal) ? "failed" : e));
        Assert.False(_store.HasImportedWeights("efficientnet_b0"));
        Assert.Empty(TestFiles.FilesUnder(_temp.Path));
    }

    [Fact]
    public async Task Interrupted_download_is_tried_again_then_falls_back_to_the_next_url()
    {
        var name = TestFiles.HonestName("efficientnet_es_test", TestCheckpoints.Es);
        // No validator: each try starts over, and each is cut short again.
        _server.ServeCutShort("first/" + name, TestCheckpoints.Es, sentBytes: 4096);
        _server.Serve("second/" + name, TestCheckpoints.Es);
        var reporter = new RecordingPullReporter();

        var model = await Puller().PullFromAsync(
            "efficientnet_es", [_server.UrlOf("first/" + name), _server.UrlOf("second/" + name)], reporter, CancellationToken.None);

        Assert.True(File.Exists(model.OnnxPath));
        Assert.Equal([.. Enumerable.Repeat("/first/" + name, 1 + TestSettings.Fast.Resumes), "/second/" + name], _server.RequestedPaths);
        Assert.Equal(["start 1/2", "resume 1/3", "resume 2/3", "resume 3/3", "failed", "start 2/2", "import", "ok"],
            reporter.Events.Select(e => e.Split(' ')[0] is "start" or "resume" ? string.Join(' ', e.Split(' ')[..2]) : e.Split(' ')[0]));
        Assert.EndsWith("(gave up after 3 resumes)", reporter.Events[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquirer_uses_stored_weights_and_random_seeds_without_downloading()
    {
        await new CheckpointImporter(_store).ImportFileAsync("efficientnet_es", await WriteAsync("es-12345678.pth", TestCheckpoints.Es), null, CancellationToken.None);
        using var acquirer = new ModelAcquirer(_store, Puller(_server.BaseUrl));

        var stored = await acquirer.EnsureAvailableAsync("efficientnet_es", null, null, CancellationToken.None);
        var random = await acquirer.EnsureAvailableAsync("efficientnet_em", 3, null, CancellationToken.None);

        Assert.False(stored.Untrained);
        Assert.True(random.Untrained);
        Assert.Empty(_server.RequestedPaths);
    }

    [Fact]
    public async Task Acquirer_pulls_a_missing_model_on_first_use()
    {
        using var acquirer = new ModelAcquirer(_store, Puller(_server.BaseUrl));
        var seedName = Path.GetFileName(ModelCatalogue.Get("efficientnet_em").CheckpointUrls[0]);

        await Assert.ThrowsAsync<ModelDownloadFailedException>(
            () => acquirer.EnsureAvailableAsync("efficientnet_em", null, null, CancellationToken.None));

        Assert.Equal(["/" + seedName], _server.RequestedPaths);
    }

    [Fact]
    public async Task Url_without_a_hash_in_its_name_is_refused_before_any_download()
    {
        var good = TestFiles.HonestName("efficientnet_es_test", TestCheckpoints.Es);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Puller().PullFromAsync(
            "efficientnet_es", [_server.UrlOf(good), _server.UrlOf("model.pth")], null, CancellationToken.None));

        Assert.Contains("model.pth: the file name must end in", error.Message, StringComparison.Ordinal);
        Assert.Empty(_server.RequestedPaths);
    }

    [Fact]
    public async Task Pull_deletes_files_abandoned_by_killed_processes_but_not_recent_ones()
    {
        var puller = Puller();
        Directory.CreateDirectory(puller.StagingDirectory);
        var old = DateTime.UtcNow - ModelPuller.AbandonedAfter - TimeSpan.FromHours(1);
        var abandoned = await StageAsync(".old.pth.1.tmp", old);
        var recent = await StageAsync(".new.pth.2.tmp", null);
        var abandonedPartial = await StageAsync(".old-12345678.pth.0123456789abcdef.partial", old);
        var abandonedSidecar = await StageAsync(".old-12345678.pth.0123456789abcdef.partial.json", old);
        // A download that has run for more than a day: its sidecar was written at the start, its bytes are fresh.
        var livePartial = await StageAsync(".live-12345678.pth.fedcba9876543210.partial", null);
        var liveSidecar = await StageAsync(".live-12345678.pth.fedcba9876543210.partial.json", old);

        await Assert.ThrowsAsync<ModelDownloadFailedException>(
            () => puller.PullFromAsync("efficientnet_es", [_server.UrlOf("gone-12345678.pth")], null, CancellationToken.None));

        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(recent));
        Assert.False(File.Exists(abandonedPartial));
        Assert.False(File.Exists(abandonedSidecar));
        Assert.True(File.Exists(livePartial));
        Assert.True(File.Exists(liveSidecar));

        async Task<string> StageAsync(string name, DateTime? lastWrite)
        {
            var path = Path.Combine(puller.StagingDirectory, name);
            await File.WriteAllBytesAsync(path, [1]);
            if (lastWrite is { } time)
            {
                File.SetLastWriteTimeUtc(path, time);
            }

            return path;
        }
    }

    [Fact]
    public void Both_commands_get_a_puller_with_the_same_patient_settings_and_no_overall_timeout()
    {
        // `models pull` and first use in `run`/`classify` both call ModelPuller.Create(store, mirror).
        using var pull = ModelPuller.Create(_store, new Uri(_server.BaseUrl, "mirror/"));
        using var firstUse = ModelPuller.Create(_store, null);

        Assert.Equal(CheckpointDownloadSettings.Default, pull.Settings);
        Assert.Equal(CheckpointDownloadSettings.Default, firstUse.Settings);
        Assert.Equal(TimeSpan.FromSeconds(60), CheckpointDownloadSettings.Default.ResponseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), CheckpointDownloadSettings.Default.StallTimeout);
        Assert.Equal(3, CheckpointDownloadSettings.Default.Resumes);
        foreach (var puller in new[] { pull, firstUse })
        {
            Assert.Equal(Timeout.InfiniteTimeSpan, puller.Downloader.Http.Timeout);
            Assert.Equal("effnet", puller.Downloader.Http.DefaultRequestHeaders.UserAgent.ToString());
        }
    }

    [Fact]
    public void Settings_with_a_timeout_that_is_not_positive_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => ModelPuller.Create(_store, null, CheckpointDownloadSettings.Default with { StallTimeout = TimeSpan.Zero }));
    }

    private async Task<string> WriteAsync(string name, byte[] bytes)
    {
        Directory.CreateDirectory(_temp.Sub("input"));
        var path = Path.Combine(_temp.Sub("input"), name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }
}
