using System.Security.Cryptography;

namespace EfficientNet.Batch.Models.Tests.Download;

/// <summary>Bytes and checkpoint-style names carrying (or deliberately not carrying) their true SHA-256 prefix.</summary>
internal static class TestFiles
{
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary><c>{stem}-{first 8 hex digits of the SHA-256}.pth</c>, as OpenMMLab names checkpoints.</summary>
    public static string HonestName(string stem, byte[] bytes) => $"{stem}-{Sha256(bytes)[..8]}.pth";

    /// <summary>A name whose 8 hex digits are not the file's hash.</summary>
    public static string DishonestName(string stem, byte[] bytes)
    {
        var wrong = Sha256(bytes)[..8] == "00000000" ? "11111111" : "00000000";
        return $"{stem}-{wrong}.pth";
    }

    /// <summary>All files under a directory, hidden temp files included.</summary>
    public static string[] FilesUnder(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, "*", SearchOption.AllDirectories) : [];
}

/// <summary>Download settings for tests: resumes without a pause, timeouts short but loose enough for a busy machine
/// (tests of the timeouts themselves set theirs in the hundreds of milliseconds).</summary>
internal static class TestSettings
{
    public static EfficientNet.Batch.Models.Download.CheckpointDownloadSettings Fast { get; } = new()
    {
        ResponseTimeout = TimeSpan.FromSeconds(5),
        StallTimeout = TimeSpan.FromSeconds(2),
        Resumes = 3,
        ResumeDelay = TimeSpan.Zero,
    };
}

/// <summary>A unique temp directory removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"effnet-test-{Guid.NewGuid():N}");

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Records every report, in order.</summary>
internal sealed class RecordingPullReporter : EfficientNet.Batch.Models.Download.IPullReporter
{
    public List<string> Events { get; } = [];

    public List<EfficientNet.Batch.Models.Download.DownloadProgress> Progress { get; } = [];

    public void Report(EfficientNet.Batch.Models.Download.DownloadProgress value) => Progress.Add(value);

    public void AttemptStarted(Uri url, int attempt, int attempts) => Events.Add($"start {attempt}/{attempts} {url.AbsolutePath}");

    public void Resuming(Uri url, int resume, int resumes, string reason) => Events.Add($"resume {resume}/{resumes} {url.AbsolutePath}: {reason}");

    public void Importing(Uri url) => Events.Add($"import {url.AbsolutePath}");

    public void AttemptFailed(Uri url, string reason) => Events.Add($"failed {url.AbsolutePath}: {reason}");

    public void Succeeded(Uri url) => Events.Add($"ok {url.AbsolutePath}");
}
