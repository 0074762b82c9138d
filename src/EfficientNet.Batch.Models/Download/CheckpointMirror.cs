namespace EfficientNet.Batch.Models.Download;

/// <summary>Points catalogue checkpoint URLs at a mirror (or a local test server) by replacing the OpenMMLab prefix
/// <c>https://download.openmmlab.com/mmclassification/v0/efficientnet/</c> with another base URL.</summary>
public static class CheckpointMirror
{
    /// <summary>Environment variable read when no mirror is given explicitly.</summary>
    public const string EnvironmentVariable = "EFFNET_CHECKPOINT_MIRROR";

    /// <summary>The explicit mirror if any, else <see cref="EnvironmentVariable"/>, else null (the original URLs).</summary>
    /// <exception cref="ArgumentException">The value is not an absolute http(s) URL.</exception>
    public static Uri? Resolve(string? explicitMirror)
    {
        var value = string.IsNullOrWhiteSpace(explicitMirror) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : explicitMirror;
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (!Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var mirror)
            || (mirror.Scheme != Uri.UriSchemeHttp && mirror.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Checkpoint mirror '{value}' is not an absolute http(s) URL.", nameof(explicitMirror));
        }

        return mirror;
    }

    /// <summary>The URL to download <paramref name="catalogueUrl"/> from: under the mirror when one is set.</summary>
    public static Uri Apply(string catalogueUrl, Uri? mirror)
    {
        var prefix = Catalogue.CheckpointUrl.Prefix;
        return mirror is not null && catalogueUrl.StartsWith(prefix, StringComparison.Ordinal)
            ? new Uri(mirror, catalogueUrl[prefix.Length..])
            : new Uri(catalogueUrl);
    }
}
