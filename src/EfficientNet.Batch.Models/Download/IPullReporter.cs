namespace EfficientNet.Batch.Models.Download;

/// <summary>Follows a pull as it happens: each URL tried, bytes received, the import, and why an attempt failed.</summary>
public interface IPullReporter : IProgress<DownloadProgress>
{
    void AttemptStarted(Uri url, int attempt, int attempts);

    /// <summary>The download is complete and verified; reading and building the model starts.</summary>
    void Importing(Uri url);

    void AttemptFailed(Uri url, string reason);

    void Succeeded(Uri url);
}
