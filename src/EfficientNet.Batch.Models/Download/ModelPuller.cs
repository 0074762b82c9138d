using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Checkpoints;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Download;

/// <summary>Downloads a model's checkpoint from its catalogue URLs in order (the seed's URL, then the released
/// fallback) and imports the first one that arrives intact and fits the architecture.</summary>
public sealed class ModelPuller(CheckpointDownloader downloader, CheckpointImporter importer, ModelStore store, Uri? mirror = null)
{
    /// <summary>Temp files in the staging directory older than this are left over from killed processes.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromDays(1);

    /// <summary>Temp files of downloads in progress live here, inside the store.</summary>
    public string StagingDirectory => Path.Combine(store.Root, ".downloads");

    /// <exception cref="UnknownModelException">The id is not in the catalogue.</exception>
    /// <exception cref="ModelDownloadFailedException">No URL gave an importable checkpoint; lists every attempt.</exception>
    public Task<ResolvedModel> PullAsync(string modelId, IPullReporter? reporter, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        return PullFromAsync(variant.Id, [.. variant.CheckpointUrls.Select(u => CheckpointMirror.Apply(u, mirror))], reporter, ct);
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
                using var download = await downloader.DownloadAsync(url, StagingDirectory, reporter, ct);
                reporter?.Importing(url);
                var resolved = await importer.ImportFileAsync(variant.Id, download.Path, download.FileName, ct);
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

    /// <summary>A killed process cannot delete its temp file; anything this old is no download in progress.</summary>
    private void DeleteAbandonedDownloads()
    {
        if (!Directory.Exists(StagingDirectory))
        {
            return;
        }

        var cutoff = DateTime.UtcNow - AbandonedAfter;
        foreach (var file in new DirectoryInfo(StagingDirectory).EnumerateFiles("*.tmp").Where(f => f.LastWriteTimeUtc < cutoff))
        {
            file.Delete();
        }
    }
}
