namespace EfficientNet.Batch.Models.Download;

/// <summary>Bytes received so far, and the total when the server sent a Content-Length.</summary>
public readonly record struct DownloadProgress(long BytesReceived, long? TotalBytes);
