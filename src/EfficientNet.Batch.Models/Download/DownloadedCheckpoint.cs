using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Download;

/// <summary>A checkpoint downloaded intact (length and SHA-256 prefix verified) into a temp file of the store.
/// Disposing deletes the temp file: import it first.</summary>
public sealed class DownloadedCheckpoint(Uri url, string fileName, StagedFile file) : IDisposable
{
    public Uri Url { get; } = url;

    /// <summary>The file name in the URL, e.g. <c>efficientnet_b0_20200902-fbd07c93.pth</c>.</summary>
    public string FileName { get; } = fileName;

    /// <summary>The temp file holding the bytes.</summary>
    public string Path => file.TempPath;

    public string Sha256 => file.Sha256;

    public long Length => file.Length;

    public void Dispose() => file.Dispose();
}
