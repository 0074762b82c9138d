using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Text;

namespace EfficientNet.Batch.Storage;

/// <summary>One image of a dataset: its key relative to <see cref="Dataset.Root"/>, and a ground-truth label if the
/// manifest gives one, and for folder datasets the object's listing entry (size, ETag, modification time, Content-MD5).</summary>
/// <param name="LabelName">A manifest label that is not a class index (a class name), for the coordinator to resolve.</param>
/// <param name="LineNumber">The manifest line the item comes from; 0 for a listed object.</param>
public sealed record DatasetItem(string Path, int? Label, BlobEntry? Entry = null, string? LabelName = null, int LineNumber = 0);

public enum DatasetKind
{
    /// <summary>Every image under a folder or prefix, recursively.</summary>
    Folder,

    /// <summary>The paths listed by a manifest file, relative to the manifest's folder.</summary>
    Manifest,

    /// <summary>A location that names one image.</summary>
    SingleImage,
}

/// <summary>Opens dataset locations: a folder/prefix of images, a manifest, or a single image.</summary>
public sealed class DatasetReader(IStorageResolver resolver)
{
    /// <summary>Extensions (case-insensitive) of the files a folder dataset includes; others are counted as skipped.</summary>
    public static readonly FrozenSet<string> ImageExtensions =
        new[] { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tiff", ".tif" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extensions (case-insensitive) that make a single-object location a manifest.</summary>
    public static readonly FrozenSet<string> ManifestExtensions =
        new[] { ".txt", ".csv", ".lst" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Decides what <paramref name="location"/> is: an existing object with a manifest extension is a manifest, one
    /// with an image extension is a single image, and anything else (including a location with no objects yet) is a
    /// folder. Throws <see cref="InvalidDataException"/> for a single object of another kind.
    /// </summary>
    public async Task<Dataset> OpenAsync(string location, CancellationToken cancellationToken)
    {
        var resolved = resolver.Resolve(location);
        if (resolved.Prefix.Length > 0 && await resolved.Store.GetPropertiesAsync(resolved.Prefix, cancellationToken) is { } entry)
        {
            var extension = Path.GetExtension(entry.Key);
            var kind = ManifestExtensions.Contains(extension) ? DatasetKind.Manifest
                : ImageExtensions.Contains(extension) ? DatasetKind.SingleImage
                : throw new InvalidDataException(
                    $"Dataset location '{location}' is a single file that is neither a manifest (.txt, .csv, .lst) nor an image.");
            return new Dataset(kind, location, new ResolvedLocation(resolved.Store, BlobKey.Parent(entry.Key)), entry.Key) { SourceBytes = entry.Size };
        }

        return new Dataset(DatasetKind.Folder, location, resolved, null);
    }
}

/// <summary>An opened dataset. Its items are read lazily and deterministically: folders in ordinal path order,
/// manifests in file order.</summary>
public sealed class Dataset
{
    /// <summary>Objects listed per request when reading a folder.</summary>
    public const int ListPageSize = 5000;

    private readonly string? _sourceKey;

    internal Dataset(DatasetKind kind, string location, ResolvedLocation root, string? sourceKey)
    {
        Kind = kind;
        Location = location;
        Root = root;
        _sourceKey = sourceKey;
    }

    public DatasetKind Kind { get; }

    /// <summary>Size of the manifest or single image the location names; null for a folder.</summary>
    public long? SourceBytes { get; init; }

    /// <summary>The location as given.</summary>
    public string Location { get; }

    /// <summary>Where item paths are relative to: the folder itself, or the folder of the manifest or image.</summary>
    public ResolvedLocation Root { get; }

    /// <summary><see cref="Root"/> as a location string: what a worker resolves to read <see cref="DatasetItem.Path"/>.</summary>
    public string RootLocation => Root.Describe();

    /// <summary>Items yielded by the last enumeration of <see cref="ReadItemsAsync"/>.</summary>
    public long ItemCount { get; private set; }

    /// <summary>Folder datasets: files the last enumeration left out because their extension is not an image's.</summary>
    public long SkippedNonImageFiles { get; private set; }

    /// <summary>
    /// Yields the items. The counters above are reset by this call and are final when the enumeration completes.
    /// Manifest errors throw <see cref="InvalidDataException"/> naming the line.
    /// </summary>
    public IAsyncEnumerable<DatasetItem> ReadItemsAsync(CancellationToken cancellationToken)
    {
        ItemCount = 0;
        SkippedNonImageFiles = 0;
        return Kind switch
        {
            DatasetKind.Folder => ReadFolderAsync(cancellationToken),
            DatasetKind.Manifest => ReadManifestAsync(cancellationToken),
            _ => ReadSingleImage(),
        };
    }

    private async IAsyncEnumerable<DatasetItem> ReadFolderAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listPrefix = Root.Prefix.Length == 0 ? "" : Root.Prefix + "/";
        await foreach (var entry in Root.Store.ListAllAsync(listPrefix, ListPageSize, cancellationToken))
        {
            if (!DatasetReader.ImageExtensions.Contains(Path.GetExtension(entry.Key)))
            {
                SkippedNonImageFiles++;
                continue;
            }

            ItemCount++;
            yield return new DatasetItem(entry.Key[listPrefix.Length..], null, entry);
        }
    }

    private async IAsyncEnumerable<DatasetItem> ReadManifestAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var manifest = await Root.Store.OpenReadAsync(_sourceKey!, cancellationToken);
        await using (manifest)
        {
            using var reader = new StreamReader(manifest, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            await foreach (var entry in ManifestParser.ReadAsync(reader, Root.Store.Describe(_sourceKey!), cancellationToken))
            {
                ItemCount++;
                yield return new DatasetItem(entry.Path, entry.Label, LabelName: entry.LabelName, LineNumber: entry.LineNumber);
            }
        }
    }

    private IAsyncEnumerable<DatasetItem> ReadSingleImage()
    {
        ItemCount = 1;
        return new[] { new DatasetItem(Path.GetFileName(_sourceKey!), null) }.ToAsyncEnumerable();
    }
}
