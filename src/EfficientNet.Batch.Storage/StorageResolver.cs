using System.Collections.Concurrent;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Storage;

/// <summary>A store and the key prefix inside it that a location string designates.</summary>
/// <param name="Prefix">Key of the designated folder or object inside <paramref name="Store"/>, no trailing '/'; "" for the store's root.</param>
public sealed record ResolvedLocation(IBlobStore Store, string Prefix)
{
    /// <summary>The store key of <paramref name="relativeKey"/> under <see cref="Prefix"/>.</summary>
    public string KeyFor(string relativeKey)
    {
        ArgumentNullException.ThrowIfNull(relativeKey);
        return BlobKey.Join(Prefix, relativeKey);
    }

    /// <summary>The location one level or more below this one.</summary>
    public ResolvedLocation Child(string relativeFolder) => this with { Prefix = KeyFor(relativeFolder.TrimEnd('/')) };

    /// <summary>Full location string (e.g. <c>az://results/job-1/summary.json</c>), for messages and for
    /// <see cref="IStorageResolver.Resolve"/>.</summary>
    public string Describe(string relativeKey = "") => Store.Describe(KeyFor(relativeKey));
}

/// <summary>Turns location strings (see <see cref="StorageLocation"/>) into stores.</summary>
public interface IStorageResolver
{
    /// <summary>Resolves <paramref name="location"/>. Throws <see cref="ArgumentException"/> for a malformed location
    /// and <see cref="InvalidOperationException"/> for an Azure location when no account (connection string or account
    /// URL) is configured.</summary>
    ResolvedLocation Resolve(string location);
}

/// <summary>
/// Resolves locations to stores, one store per Azure container or per file-system root, cached for the process.
/// </summary>
/// <remarks>
/// A file-system location that is an existing file resolves to its folder as the store root and its name as the
/// prefix (so a manifest and the images beside it share a store); any other path, existing or not, is a folder
/// and becomes the store root itself, with an empty prefix.
/// </remarks>
public sealed class StorageResolver(IOptions<StorageOptions> options) : IStorageResolver
{
    private readonly ConcurrentDictionary<string, IBlobStore> _stores = new(StringComparer.Ordinal);
    private readonly Lazy<BlobServiceClient?> _azure = new(() => CreateServiceClient(options.Value));

    public ResolvedLocation Resolve(string location)
    {
        var parsed = StorageLocation.Parse(location);
        if (parsed.Scheme == StorageScheme.Azure)
        {
            var service = _azure.Value ?? throw new InvalidOperationException(
                $"Location '{location}' is in Azure Blob Storage, but no storage account is configured: set " +
                $"{StorageOptions.SectionName}:{nameof(StorageOptions.AzureConnectionString)} or the " +
                $"{StorageOptions.ConnectionStringEnvironmentVariable} environment variable (an account key or SAS), or " +
                $"{StorageOptions.AccountUrlSetting} (an Entra ID identity through DefaultAzureCredential).");
            var store = _stores.GetOrAdd("az:" + parsed.Container, _ => new AzureBlobStore(service.GetBlobContainerClient(parsed.Container)));
            return new ResolvedLocation(store, parsed.Prefix);
        }

        var path = parsed.Container;
        var (root, prefix) = File.Exists(path) ? (Path.GetDirectoryName(path)!, Path.GetFileName(path)) : (path, "");
        return new ResolvedLocation(_stores.GetOrAdd("file:" + root, _ => new FileSystemBlobStore(root)), prefix);
    }

    /// <summary>The account client after the options: a connection string (key or SAS), else the account URL with
    /// <see cref="DefaultAzureCredential"/> (workload identity in a cluster), else none. Neither connects yet.</summary>
    public static BlobServiceClient? CreateServiceClient(StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.AzureConnectionString))
        {
            return new BlobServiceClient(options.AzureConnectionString);
        }

        return string.IsNullOrWhiteSpace(options.AccountUrl)
            ? null
            : new BlobServiceClient(new Uri(options.AccountUrl), new DefaultAzureCredential());
    }
}
