using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Download;

/// <summary>Streams one checkpoint URL to a temp file, hashing on the way, and accepts it only when the whole body
/// arrived and its SHA-256 starts with the 8 hex digits in the file name (spec §6).</summary>
public sealed class CheckpointDownloader(HttpClient http)
{
    /// <param name="stagingDirectory">Where the temp file goes; inside the model store, so the import's rename stays on one disk.</param>
    /// <exception cref="CheckpointDownloadException">Connection or HTTP error, interrupted body, or wrong hash. No file is left behind.</exception>
    /// <exception cref="ArgumentException">The URL's file name carries no 8-hex-digit hash.</exception>
    public async Task<DownloadedCheckpoint> DownloadAsync(
        Uri url, string stagingDirectory, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var fileName = Path.GetFileName(url.AbsolutePath);
        var expectedPrefix = CheckpointUrl.Sha256Prefix(fileName);

        using var response = await SendAsync(url, ct);
        var total = response.Content.Headers.ContentLength;
        var counter = new ByteCounter(progress, total);
        StagedFile staged;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            staged = await StagedFile.ReceiveAsync(body, stagingDirectory, fileName, counter, ct);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new CheckpointDownloadException(url, DownloadFailure.Interrupted,
                $"download interrupted after {counter.Bytes:N0}{Of(total)} bytes ({e.Message})", e);
        }

        if (total is { } expectedLength && staged.Length != expectedLength)
        {
            staged.Dispose();
            throw new CheckpointDownloadException(url, DownloadFailure.Interrupted,
                $"download incomplete: received {staged.Length:N0} of {expectedLength:N0} bytes");
        }

        if (!staged.Sha256.StartsWith(expectedPrefix, StringComparison.Ordinal))
        {
            staged.Dispose();
            throw new CheckpointDownloadException(url, DownloadFailure.HashMismatch,
                $"SHA-256 mismatch: the file name promises {expectedPrefix}…, the downloaded file is {staged.Sha256}");
        }

        return new DownloadedCheckpoint(url, fileName, staged);
    }

    private async Task<HttpResponseMessage> SendAsync(Uri url, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CheckpointDownloadException(url, DownloadFailure.Connection, $"no response ({e.Message})", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new CheckpointDownloadException(url, DownloadFailure.Connection, "timed out waiting for a response", e);
        }

        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new CheckpointDownloadException(url, DownloadFailure.HttpStatus, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        return response;
    }

    private static string Of(long? total) => total is { } t ? $" of {t:N0}" : "";

    /// <summary>Adapts the staged file's running byte count; synchronous so reports arrive in order.</summary>
    private sealed class ByteCounter(IProgress<DownloadProgress>? target, long? total) : IProgress<long>
    {
        public long Bytes { get; private set; }

        public void Report(long value)
        {
            Bytes = value;
            target?.Report(new DownloadProgress(value, total));
        }
    }
}
