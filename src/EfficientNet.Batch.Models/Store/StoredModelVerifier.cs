using System.Collections.Concurrent;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>
/// Checks a stored ONNX file against the SHA-256 its manifest records before a process first uses it: a file damaged
/// on disk (zeroed blocks, a truncated copy) is refused rather than served with different outputs. The verdict is kept
/// for the process, keyed by the file's length and modification time, so later loads cost one stat.
/// </summary>
internal static class StoredModelVerifier
{
    private static readonly ConcurrentDictionary<string, Verdict> Verified = new(StringComparer.Ordinal);

    /// <exception cref="ModelHashMismatchException">The file does not hash to <paramref name="expectedSha256"/>.</exception>
    public static async Task VerifyAsync(ModelVariant variant, string onnxPath, string expectedSha256, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(expectedSha256))
        {
            // A manifest from before hashes were recorded: nothing to compare with.
            return;
        }

        var file = new FileInfo(onnxPath);
        var stamp = new Verdict(file.Length, file.LastWriteTimeUtc, expectedSha256);
        if (Verified.TryGetValue(onnxPath, out var known) && known == stamp)
        {
            return;
        }

        var actual = await FileSha256.ComputeAsync(onnxPath, ct);
        if (!string.Equals(actual, expectedSha256, StringComparison.Ordinal))
        {
            throw new ModelHashMismatchException(variant.Id, onnxPath, expectedSha256, actual, Remedy(variant));
        }

        Verified[onnxPath] = stamp;
    }

    private static string Remedy(ModelVariant variant) =>
        variant.IsCustom
            ? $"The stored file is damaged: import the model again (`effnet models import FILE --model {variant.Id} --arch {variant.Arch} --classes NAMES.txt`)."
            : $"The stored file is damaged: download it again (`effnet models pull {variant.Id}`) or import it again (`effnet models import FILE --model {variant.Id}`).";

    private readonly record struct Verdict(long Length, DateTime Modified, string Sha256);
}
