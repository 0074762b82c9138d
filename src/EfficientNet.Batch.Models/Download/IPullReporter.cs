namespace EfficientNet.Batch.Models.Download;

/// <summary>Follows a pull as it happens: each URL tried, bytes received, the import, and why an attempt failed.</summary>
public interface IPullReporter : IProgress<DownloadProgress>
{
    void AttemptStarted(Uri url, int attempt, int attempts);

    /// <summary>The download of <paramref name="url"/> broke off (<paramref name="reason"/>) and is tried again: resumed
    /// from the bytes kept when the server allows it. Progress reports continue for the same attempt.</summary>
    /// <param name="resume">1 for the first resume, up to <paramref name="resumes"/>.</param>
    void Resuming(Uri url, int resume, int resumes, string reason)
    {
    }

    /// <summary>The download is complete and verified; reading and building the model starts.</summary>
    void Importing(Uri url);

    void AttemptFailed(Uri url, string reason);

    void Succeeded(Uri url);
}
