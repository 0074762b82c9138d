using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Download;

/// <summary>Streams one checkpoint URL into a partial file of the staging directory, hashing on the way, and accepts it
/// only when the whole body arrived and its SHA-256 starts with the 8 hex digits in the file name (spec §6). A body that
/// breaks off stays on disk when the server gave a validator (ETag or Last-Modified); the next call for the same URL, in
/// this process or a later one, resumes it with <c>Range</c> guarded by <c>If-Range</c>.</summary>
public sealed class CheckpointDownloader
{
    private const int BufferSize = 1 << 16;
    private readonly HttpClient _http;

    /// <param name="http">Its own <see cref="HttpClient.Timeout"/> should be infinite (see <see cref="CreateHttpClient"/>):
    /// <paramref name="settings"/> bounds each attempt instead.</param>
    /// <param name="settings">Default <see cref="CheckpointDownloadSettings.Default"/>.</param>
    public CheckpointDownloader(HttpClient http, CheckpointDownloadSettings? settings = null)
    {
        _http = http;
        Settings = (settings ?? CheckpointDownloadSettings.Default).Validated();
    }

    public CheckpointDownloadSettings Settings { get; }

    internal HttpClient Http => _http;

    /// <summary>An HttpClient without an overall timeout (a whole-download deadline would fail big checkpoints on slow
    /// links); connecting is bounded by the response timeout, the rest by <see cref="DownloadAsync"/>.</summary>
    public static HttpClient CreateHttpClient(CheckpointDownloadSettings settings)
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = settings.ResponseTimeout,
            // Ranges count bytes of the file as stored; a decompressed body could not be resumed.
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("effnet");
        return http;
    }

    /// <param name="stagingDirectory">Where the partial file goes; inside the model store, so the import stays on one disk.</param>
    /// <param name="progress">Bytes of the file so far: a resumed download starts at what was kept.</param>
    /// <exception cref="CheckpointDownloadException">Connection or HTTP error, interrupted body (the bytes so far are kept
    /// for a resume when the server gave a validator, else deleted), or wrong hash (deleted: a bad file is never resumed).</exception>
    /// <exception cref="ArgumentException">The URL's file name carries no 8-hex-digit hash.</exception>
    public async Task<DownloadedCheckpoint> DownloadAsync(
        Uri url, string stagingDirectory, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var fileName = Path.GetFileName(url.AbsolutePath);
        var expectedPrefix = CheckpointUrl.Sha256Prefix(fileName);
        Directory.CreateDirectory(stagingDirectory);
        var partial = PartialDownload.For(url, stagingDirectory);
        var file = OpenExclusive(url, partial);
        // Null while the bytes on disk cannot be resumed; the partial is then deleted unless the download succeeds.
        PartialOrigin? origin = null;
        var handedOver = false;
        try
        {
            origin = file.Length > 0 ? await partial.ReadOriginAsync(ct) : null;
            if (origin is null || file.Length > origin.TotalLength)
            {
                file.SetLength(0);
                origin = null;
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long? total;
            if (origin is not null && file.Length == origin.TotalLength)
            {
                // Complete before an earlier process could verify it: nothing is left to ask the server for.
                total = origin.TotalLength;
                await HashKeptBytesAsync(file, hash, ct);
            }
            else
            {
                using var response = await ResponseFromAsync(url, file, origin, ct);
                (total, origin) = await SettleStartAsync(url, partial, file, response, origin, hash, ct);
                await AppendBodyAsync(url, response, file, hash, total, origin, progress, ct);
            }

            var length = file.Length;
            if (total is { } expected && length != expected)
            {
                origin = length < expected ? origin : null;
                throw new CheckpointDownloadException(url, DownloadFailure.Interrupted,
                    $"download incomplete: received {length:N0} of {expected:N0} bytes{Kept(origin)}");
            }

            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!sha256.StartsWith(expectedPrefix, StringComparison.Ordinal))
            {
                origin = null;
                throw new CheckpointDownloadException(url, DownloadFailure.HashMismatch,
                    $"SHA-256 mismatch: the file name promises {expectedPrefix}…, the downloaded file is {sha256}");
            }

            file.Flush(flushToDisk: true);
            handedOver = true;
            return new DownloadedCheckpoint(url, fileName, partial, sha256, length);
        }
        finally
        {
            var empty = file.Length == 0;
            await file.DisposeAsync();
            if (!handedOver && (origin is null || empty))
            {
                partial.Delete();
            }
        }
    }

    /// <summary>Where the body starts: after the kept bytes (hashed now) for a 206, else at 0 with the kept bytes
    /// dropped and the sidecar written for the new body.</summary>
    /// <returns>The whole file's length when known, and the origin of the bytes on disk from now on (null: not resumable).</returns>
    private static async Task<(long? Total, PartialOrigin? Origin)> SettleStartAsync(Uri url, PartialDownload partial,
        FileStream file, HttpResponseMessage response, PartialOrigin? origin, IncrementalHash hash, CancellationToken ct)
    {
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            await HashKeptBytesAsync(file, hash, ct);
            return (response.Content.Headers.ContentRange!.Length ?? origin!.TotalLength, origin);
        }

        // A whole body: the first download, or the server made it start over (ignored Range, or the file changed).
        file.SetLength(0);
        var total = response.Content.Headers.ContentLength;
        origin = ValidatorOf(response) is { } validator ? new PartialOrigin(url.AbsoluteUri, validator, total) : null;
        if (origin is null)
        {
            partial.DeleteOrigin();
        }
        else
        {
            await partial.WriteOriginAsync(origin, ct);
        }

        return (total, origin);
    }

    /// <summary>Appends the body to <paramref name="file"/>, failing as interrupted when it breaks off or stalls.</summary>
    private async Task AppendBodyAsync(Uri url, HttpResponseMessage response, FileStream file, IncrementalHash hash,
        long? total, PartialOrigin? origin, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        progress?.Report(new DownloadProgress(file.Length, total));
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[BufferSize];
            while (true)
            {
                stall.CancelAfter(Settings.StallTimeout);
                var read = await body.ReadAsync(buffer, stall.Token);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
                progress?.Report(new DownloadProgress(file.Length, total));
            }
        }
        catch (Exception e) when ((e is IOException or HttpRequestException or OperationCanceledException) && !ct.IsCancellationRequested)
        {
            await file.FlushAsync(CancellationToken.None);
            var reason = stall.IsCancellationRequested
                ? $"no data for {Describe(Settings.StallTimeout)}"
                : e.Message;
            throw new CheckpointDownloadException(url, DownloadFailure.Interrupted,
                $"download interrupted after {file.Length:N0}{Of(total)} bytes ({reason}){Kept(origin)}", e);
        }
    }

    /// <summary>A 206 continuing the kept bytes when they can be resumed, else a whole body (never a 206).</summary>
    private async Task<HttpResponseMessage> ResponseFromAsync(
        Uri url, FileStream file, PartialOrigin? origin, CancellationToken ct)
    {
        if (origin is not null && file.Length > 0)
        {
            var resume = await SendAsync(url, file.Length, origin.Validator, ct);
            if (Continues(resume, file.Length, origin))
            {
                return resume;
            }

            // 200: the server ignores Range, or the file changed and If-Range did not match; the body is the whole file.
            if (resume.StatusCode == HttpStatusCode.OK)
            {
                return resume;
            }

            // 416, or a range that does not continue the kept bytes: ask for the whole file rather than mix two versions.
            if (resume.StatusCode is not (HttpStatusCode.RequestedRangeNotSatisfiable or HttpStatusCode.PartialContent))
            {
                throw StatusFailure(url, resume);
            }

            resume.Dispose();
        }

        var whole = await SendAsync(url, 0, null, ct);
        if (!whole.IsSuccessStatusCode || whole.StatusCode == HttpStatusCode.PartialContent)
        {
            throw StatusFailure(url, whole);
        }

        return whole;
    }

    private static CheckpointDownloadException StatusFailure(Uri url, HttpResponseMessage response)
    {
        var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        response.Dispose();
        return new CheckpointDownloadException(url, DownloadFailure.HttpStatus, status);
    }

    private static bool Continues(HttpResponseMessage response, long offset, PartialOrigin origin) =>
        response.StatusCode == HttpStatusCode.PartialContent
        && response.Content.Headers.ContentRange is { Unit: "bytes", From: { } from, Length: var length }
        && from == offset
        && (length is null || origin.TotalLength is null || length == origin.TotalLength);

    /// <param name="offset">When positive, a resume: <c>Range: bytes=offset-</c> and <c>If-Range: validator</c>.</param>
    private async Task<HttpResponseMessage> SendAsync(Uri url, long offset, string? validator, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
            request.Headers.TryAddWithoutValidation("If-Range", validator);
        }

        // Bounds connecting and the response headers only; the body is bounded by the stall timeout instead.
        using var headersDeadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        headersDeadline.CancelAfter(Settings.ResponseTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headersDeadline.Token);
        }
        catch (HttpRequestException e)
        {
            throw new CheckpointDownloadException(url, DownloadFailure.Connection, $"no response ({e.Message})", e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new CheckpointDownloadException(url, DownloadFailure.Connection,
                $"no response within {Describe(Settings.ResponseTimeout)}", e);
        }
    }

    /// <summary>Feeds the bytes already on disk to the hash, streaming, so it covers the whole file once the rest is appended.</summary>
    private static Task HashKeptBytesAsync(FileStream file, IncrementalHash hash, CancellationToken ct)
    {
        file.Position = 0;
        return FileSha256.AppendAsync(file, hash, ct);
    }

    /// <summary>The partial file, locked against a second process downloading the same URL into it.</summary>
    private static FileStream OpenExclusive(Uri url, PartialDownload partial)
    {
        try
        {
            return new FileStream(partial.Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferSize, FileOptions.Asynchronous);
        }
        catch (IOException e)
        {
            throw new CheckpointDownloadException(url, DownloadFailure.Interrupted,
                $"{partial.Path} is in use by another download ({e.Message})", e);
        }
    }

    /// <summary>A strong ETag, else Last-Modified: what If-Range can compare. Null when the server gave neither.</summary>
    private static string? ValidatorOf(HttpResponseMessage response) =>
        response.Headers.ETag is { IsWeak: false } etag ? etag.ToString()
        : response.Content.Headers.LastModified is { } modified ? modified.ToString("R")
        : null;

    private static string Of(long? total) => total is { } t ? $" of {t:N0}" : "";

    private static string Kept(PartialOrigin? origin) => origin is null ? "" : "; kept to resume";

    private static string Describe(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#} s" : $"{t.TotalMilliseconds:0} ms";
}
