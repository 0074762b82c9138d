namespace EfficientNet.Batch.Models.Download;

/// <summary>Bytes of the file on disk so far (a resumed download starts at the length of what an earlier attempt kept;
/// it drops to 0 when the server makes the download start over), and the whole file's length when the server told it.</summary>
public readonly record struct DownloadProgress(long BytesReceived, long? TotalBytes);
