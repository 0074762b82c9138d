namespace EfficientNet.Batch.Models.Download;

/// <summary>A checkpoint downloaded intact (length and SHA-256 prefix verified) into a file of the staging directory.
/// Disposing deletes the file: import it first.</summary>
public sealed class DownloadedCheckpoint : IDisposable
{
    private readonly PartialDownload _file;

    internal DownloadedCheckpoint(Uri url, string fileName, PartialDownload file, string sha256, long length)
    {
        Url = url;
        FileName = fileName;
        _file = file;
        Sha256 = sha256;
        Length = length;
    }

    public Uri Url { get; }

    /// <summary>The file name in the URL, e.g. <c>efficientnet_b0_20200902-fbd07c93.pth</c>.</summary>
    public string FileName { get; }

    /// <summary>The staging file holding the bytes.</summary>
    public string Path => _file.Path;

    /// <summary>Lower-case hex SHA-256 of the whole file (resumed bytes included).</summary>
    public string Sha256 { get; }

    public long Length { get; }

    public void Dispose() => _file.Delete();
}
