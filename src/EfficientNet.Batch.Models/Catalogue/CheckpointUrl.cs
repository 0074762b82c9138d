using System.Text.RegularExpressions;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>Facts encoded in OpenMMLab checkpoint URLs (spec §5, §6).</summary>
public static partial class CheckpointUrl
{
    public const string Prefix = "https://download.openmmlab.com/mmclassification/v0/efficientnet/";

    /// <summary>The 8 hex digits before <c>.pth</c>: the first 8 hex digits of the file's SHA-256, to verify a download.</summary>
    public static string Sha256Prefix(string url)
    {
        var match = HashSuffix().Match(url);
        return match.Success
            ? match.Groups[1].Value.ToLowerInvariant()
            : throw new ArgumentException($"'{url}' does not end in -<8 hex digits>.pth.", nameof(url));
    }

    /// <summary>Seed (2020) file: <c>efficientnet_{stem}_20200902-{hash}.pth</c>.</summary>
    internal static string Seed(string stem, string hash) => $"{Prefix}{stem}_20200902-{hash}.pth";

    /// <summary>Released 0.x file: <c>efficientnet-{arch}_3rdparty_8xb32{tag}_in1k_20220119-{hash}.pth</c>.</summary>
    internal static string Released(string arch, string tag, string hash) =>
        $"{Prefix}efficientnet-{arch}_3rdparty_8xb32{tag}_in1k_20220119-{hash}.pth";

    [GeneratedRegex(@"-([0-9a-fA-F]{8})\.pth$")]
    private static partial Regex HashSuffix();
}
