using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EfficientNet.Batch.Models.Download;

/// <summary>The bytes of one URL received so far, kept in the staging directory under a name derived from the URL, so an
/// interrupted download (dropped link, stall, killed process) resumes with a Range request instead of starting over.
/// A small JSON sidecar beside it records where the bytes came from; a partial without one is never resumed.</summary>
internal sealed class PartialDownload
{
    public const string Extension = ".partial";

    public const string SidecarExtension = Extension + SidecarSuffix;

    private const string SidecarSuffix = ".json";

    private PartialDownload(Uri url, string path)
    {
        Url = url;
        Path = path;
        SidecarPath = path + SidecarSuffix;
    }

    public Uri Url { get; }

    /// <summary>The bytes, e.g. <c>.efficientnet_b8_20200902-…pth.{first 16 hex digits of the URL's SHA-256}.partial</c>.</summary>
    public string Path { get; }

    public string SidecarPath { get; }

    public static PartialDownload For(Uri url, string stagingDirectory)
    {
        // The URL's hash keeps the same file name from two mirrors apart: their validators differ.
        var urlHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.AbsoluteUri)))[..16];
        var name = $".{System.IO.Path.GetFileName(url.AbsolutePath)}.{urlHash}{Extension}";
        return new PartialDownload(url, System.IO.Path.Combine(stagingDirectory, name));
    }

    /// <summary>The partial a staging file belongs to (itself, or the partial beside a sidecar), so the two are
    /// cleaned up together.</summary>
    public static string OwnerName(string fileName) =>
        fileName.EndsWith(SidecarExtension, StringComparison.Ordinal) ? fileName[..^SidecarSuffix.Length] : fileName;

    /// <summary>The sidecar's record, or null when there is none, it does not parse or it names another URL.</summary>
    public async Task<PartialOrigin?> ReadOriginAsync(CancellationToken ct)
    {
        try
        {
            var origin = JsonSerializer.Deserialize<PartialOrigin>(await File.ReadAllBytesAsync(SidecarPath, ct));
            return origin is { Validator.Length: > 0 } && origin.Url == Url.AbsoluteUri ? origin : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public Task WriteOriginAsync(PartialOrigin origin, CancellationToken ct) =>
        File.WriteAllBytesAsync(SidecarPath, JsonSerializer.SerializeToUtf8Bytes(origin), ct);

    public void DeleteOrigin() => File.Delete(SidecarPath);

    public void Delete()
    {
        File.Delete(Path);
        File.Delete(SidecarPath);
    }
}

/// <summary>Where a partial's bytes came from: the URL, the validator a resume sends in If-Range (a strong ETag, else
/// Last-Modified) and the whole file's length when the server told it.</summary>
internal sealed record PartialOrigin(string Url, string Validator, long? TotalLength);
