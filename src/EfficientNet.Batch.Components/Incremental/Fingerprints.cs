using System.Security.Cryptography;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>Image fingerprints: from a listing entry (no byte read), completed by the worker with the SHA-256 of the
/// bytes it reads for decoding anyway when the store keeps no Content-MD5.</summary>
public static class Fingerprints
{
    public static ImageFingerprint FromListing(BlobEntry entry) => new(entry.ETag, entry.ContentMd5, entry.Size, entry.LastModified);

    /// <summary>The fingerprint a record carries once the worker has the image's bytes in memory: the listing's, with
    /// the SHA-256 of <paramref name="bytes"/> unless a Content-MD5 already identifies the content.</summary>
    public static ImageFingerprint Complete(ImageFingerprint? listed, ReadOnlySpan<byte> bytes) =>
        listed is { ContentMd5: not null }
            ? listed
            : (listed ?? new ImageFingerprint(null, null, bytes.Length, default)) with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
}
