using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Checkpoints;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Download;

/// <summary>Downloads a model's checkpoint from its catalogue URLs in order (the seed's URL, then the released
/// fallback) and imports the first one that arrives intact and fits the architecture. A download that breaks off is
/// resumed (<see cref="CheckpointDownloadSettings.Resumes"/> times) before the next URL is tried.</summary>
public sealed class ModelPuller : IDisposable
{
    /// <summary>Partial files and sidecars in the staging directory untouched for this long are left over from pulls
    /// nobody resumed.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromDays(1);

    private readonly CheckpointDownloader _downloader;
    private readonly CheckpointImporter _importer;
    private readonly ModelStore _store;
    private readonly Uri? _mirror;
    private readonly HttpClient? _ownedHttp;

    public ModelPuller(CheckpointDownloader downloader, CheckpointImporter importer, ModelStore store, Uri? mirror = null)
        : this(downloader, importer, store, mirror, ownedHttp: null)
    {
    }

    private ModelPuller(CheckpointDownloader downloader, CheckpointImporter importer, ModelStore store, Uri? mirror, HttpClient? ownedHttp)
    {
        _downloader = downloader;
        _importer = importer;
        _store = store;
        _mirror = mirror;
        _ownedHttp = ownedHttp;
    }

    /// <summary>Partial files of downloads in progress or to resume live here, inside the store.</summary>
    public string StagingDirectory => Path.Combine(_store.Root, ".downloads");

    public CheckpointDownloadSettings Settings => _downloader.Settings;

    internal CheckpointDownloader Downloader => _downloader;

    /// <summary>The puller every command uses (<c>models pull</c>, first use in <c>run</c>/<c>classify</c>): its own
    /// HttpClient, released by <see cref="Dispose"/>, and <paramref name="settings"/>, default
    /// <see cref="CheckpointDownloadSettings.Default"/>.</summary>
    /// <param name="mirror">From <see cref="CheckpointMirror.Resolve"/>; null for the catalogue's URLs.</param>
    public static ModelPuller Create(ModelStore store, Uri? mirror, CheckpointDownloadSettings? settings = null)
    {
        settings = (settings ?? CheckpointDownloadSettings.Default).Validated();
        var http = CheckpointDownloader.CreateHttpClient(settings);
        return new ModelPuller(new CheckpointDownloader(http, settings), new CheckpointImporter(store), store, mirror, http);
    }

    /// <exception cref="UnknownModelException">The id is not in the catalogue.</exception>
    /// <exception cref="ModelDownloadFailedException">No URL gave an importable checkpoint; lists every attempt.</exception>
    public Task<ResolvedModel> PullAsync(string modelId, IPullReporter? reporter, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        return PullFromAsync(variant.Id, [.. variant.CheckpointUrls.Select(u => CheckpointMirror.Apply(u, _mirror))], reporter, ct);
    }

    /// <summary>Like <see cref="PullAsync"/> with URLs of the caller's choice (a checkpoint the catalogue does not list,
    /// such as an EdgeTPU file). Each file name must end in <c>-{first 8 hex digits of its SHA-256}.pth</c>.</summary>
    /// <exception cref="ArgumentException">A URL's file name carries no hash; nothing was downloaded.</exception>
    public async Task<ResolvedModel> PullFromAsync(string modelId, IReadOnlyList<Uri> urls, IPullReporter? reporter, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        foreach (var url in urls)
        {
            // Fail before any download when a name carries no hash to verify against.
            try
            {
                _ = CheckpointUrl.Sha256Prefix(Path.GetFileName(url.AbsolutePath));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{url}: the file name must end in -<first 8 hex digits of its SHA-256>.pth so the download can be verified.", e);
            }
        }

        DeleteAbandonedDownloads();
        var attempts = new List<PullAttempt>();
        for (var i = 0; i < urls.Count; i++)
        {
            var url = urls[i];
            reporter?.AttemptStarted(url, i + 1, urls.Count);
            try
            {
                using var download = await DownloadResumingAsync(url, reporter, ct);
                reporter?.Importing(url);
                var resolved = await _importer.ImportFileAsync(variant.Id, download.Path, download.FileName, ct);
                reporter?.Succeeded(url);
                return resolved;
            }
            // A file that arrives intact but does not read or fit (the 2020 seed files may differ in layout) is as
            // unusable as a broken download: the next URL may still work.
            catch (Exception e) when (e is CheckpointDownloadException or CheckpointFormatException or CheckpointMismatchException)
            {
                var reason = e is CheckpointDownloadException download ? download.Reason : e.Message;
                attempts.Add(new PullAttempt(url, reason));
                reporter?.AttemptFailed(url, reason);
            }
        }

        throw new ModelDownloadFailedException(variant.Id, attempts);
    }

    public void Dispose() => _ownedHttp?.Dispose();

    /// <summary>Downloads one URL, resuming it while it breaks off mid-way (a connection failure counts once a first
    /// attempt got that far: the link is flaky, not the URL wrong).</summary>
    private async Task<DownloadedCheckpoint> DownloadResumingAsync(Uri url, IPullReporter? reporter, CancellationToken ct)
    {
        var resumes = Settings.Resumes;
        for (var resume = 0; ; resume++)
        {
            try
            {
                return await _downloader.DownloadAsync(url, StagingDirectory, reporter, ct);
            }
            catch (CheckpointDownloadException e) when (resume < resumes
                && (e.Failure == DownloadFailure.Interrupted || (e.Failure == DownloadFailure.Connection && resume > 0)))
            {
                reporter?.Resuming(url, resume + 1, resumes, e.Reason);
                await Task.Delay(Settings.ResumeDelay, ct);
            }
            catch (CheckpointDownloadException e) when (resume > 0)
            {
                throw new CheckpointDownloadException(url, e.Failure, $"{e.Reason} (gave up after {resume} resume{(resume == 1 ? "" : "s")})", e);
            }
        }
    }

    /// <summary>A killed process cannot delete its files, and a partial may never be resumed; anything this old is no
    /// download in progress. A partial and its sidecar go together, only when both are old.</summary>
    private void DeleteAbandonedDownloads()
    {
        if (!Directory.Exists(StagingDirectory))
        {
            return;
        }

        var cutoff = DateTime.UtcNow - AbandonedAfter;
        var staged = new DirectoryInfo(StagingDirectory).EnumerateFiles()
            .Where(f => f.Name.EndsWith(".tmp", StringComparison.Ordinal)
                || f.Name.EndsWith(PartialDownload.Extension, StringComparison.Ordinal)
                || f.Name.EndsWith(PartialDownload.SidecarExtension, StringComparison.Ordinal));
        foreach (var group in staged.GroupBy(f => PartialDownload.OwnerName(f.Name)).Where(g => g.All(f => f.LastWriteTimeUtc < cutoff)))
        {
            foreach (var file in group)
            {
                file.Delete();
            }
        }
    }
}
