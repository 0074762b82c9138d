using System.Globalization;
using EfficientNet.Batch.Components.Evaluation;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>A listed dataset: the location its paths are relative to, its images in order, and what was left out.</summary>
public sealed record DatasetListing(string Root, IReadOnlyList<ShardImage> Images, long SkippedFiles);

/// <summary>A dataset listed page by page (<see cref="DatasetLister.StreamAsync"/>): its root, how many images were
/// handed over, and what was left out.</summary>
public sealed record DatasetSummary(string Root, long Images, long SkippedFiles);

/// <summary>The dataset cannot be used: missing, empty, or a malformed manifest. The job fails with this message.</summary>
public sealed class DatasetException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Lists a dataset (a folder/prefix of images or a manifest) into shard-ready image entries. A manifest's paths
/// cannot leave its folder (the parser refuses absolute paths and ".."), and no image may lead outside the coordinator's
/// allowed dataset roots through a symbolic link: either makes the dataset unusable. So does a manifest larger than
/// <see cref="JobLimitsOptions.MaxManifestBytes"/> or a dataset of more than <see cref="JobLimitsOptions.MaxImagesPerJob"/>
/// images (listing stops there).</summary>
public sealed class DatasetLister(
    DatasetReader reader,
    [FromKeyedServices(LocationPolicies.Coordinator)] LocationPolicy policy,
    IOptions<JobLimitsOptions> limits)
{
    /// <summary>Images per page handed over by <see cref="StreamAsync"/>.</summary>
    public const int PageSize = 16_384;

    /// <summary>Properties are fetched this many at a time for a manifest's images (their listing has none).</summary>
    private const int PropertyParallelism = 32;

    /// <param name="classNames">The job's model's class names: a manifest label is resolved against them (an index in
    /// range, or a class name) and one that is neither makes the dataset unusable, naming the line. Null when not known
    /// (integer labels are then taken as they are, and a label written as a name is refused).</param>
    public async Task<DatasetListing> ListAsync(string location, CancellationToken cancellationToken, IReadOnlyList<string>? classNames = null)
    {
        var images = new List<ShardImage>();
        var listed = await StreamAsync(
            location,
            (page, _) =>
            {
                images.AddRange(page);
                return Task.CompletedTask;
            },
            cancellationToken,
            classNames);
        return new DatasetListing(listed.Root, images, listed.SkippedFiles);
    }

    /// <summary>Whether <see cref="StreamAsync"/> hands the dataset over in ascending ordinal path order: a folder or
    /// prefix (and a single image) is, a manifest is listed in its own order. A location that cannot be opened answers
    /// true: the listing then fails, naming the problem.</summary>
    public async Task<bool> IsListedInPathOrderAsync(string location, CancellationToken cancellationToken)
    {
        try
        {
            return (await reader.OpenAsync(location, cancellationToken)).Kind != DatasetKind.Manifest;
        }
        catch (Exception e) when (e is InvalidDataException or BlobNotFoundException or DirectoryNotFoundException or FileNotFoundException or ArgumentException)
        {
            return true;
        }
    }

    /// <summary>
    /// Lists the dataset a page at a time, each page checked before <paramref name="onPage"/> gets it, so that the
    /// dataset is never whole in memory. A problem found on a later page (a bad label, the image limit) throws after the
    /// pages before it were handed over: the caller plans nothing until the listing has ended.
    /// </summary>
    /// <param name="classNames">As for <see cref="ListAsync"/>.</param>
    /// <param name="withFingerprints">Give every image the fingerprint of its listing entry: a manifest's images have
    /// none, so their properties are fetched (never their bytes), for an incremental job to compare.</param>
    public async Task<DatasetSummary> StreamAsync(
        string location,
        Func<IReadOnlyList<ShardImage>, CancellationToken, Task> onPage,
        CancellationToken cancellationToken,
        IReadOnlyList<string>? classNames = null,
        bool withFingerprints = false)
    {
        var lookup = classNames is { Count: > 0 } ? new ClassLookup(classNames) : null;
        try
        {
            var dataset = await reader.OpenAsync(location, cancellationToken);
            var limit = limits.Value;
            if (dataset.Kind == DatasetKind.Manifest && dataset.SourceBytes > limit.MaxManifestBytes)
            {
                throw new DatasetException(
                    $"The manifest '{location}' has {dataset.SourceBytes} bytes, more than the {limit.MaxManifestBytes} a job may read " +
                    $"({JobLimitsOptions.SectionName}:{nameof(JobLimitsOptions.MaxManifestBytes)}): split it into several manifests.");
            }

            long count = 0;
            var page = new List<ShardImage>(PageSize);
            await foreach (var item in dataset.ReadItemsAsync(cancellationToken))
            {
                if (count == limit.MaxImagesPerJob)
                {
                    throw new DatasetException(
                        $"The dataset '{location}' holds more than {limit.MaxImagesPerJob} images, the most one job may have " +
                        $"({JobLimitsOptions.SectionName}:{nameof(JobLimitsOptions.MaxImagesPerJob)}): split it into several jobs by prefix or manifest.");
                }

                page.Add(new ShardImage(item.Path, Label(item, location, lookup), item.Entry is { } entry ? Fingerprints.FromListing(entry) : null));
                count++;
                if (page.Count == PageSize)
                {
                    await HandOverAsync(dataset, location, page, onPage, withFingerprints, cancellationToken);
                    page = new List<ShardImage>(PageSize);
                }
            }

            if (count == 0)
            {
                if (IsMissingLocalPath(location))
                {
                    throw new DatasetException($"The dataset '{location}' does not exist.");
                }

                throw new DatasetException(
                    $"The dataset '{location}' holds no images ({dataset.SkippedNonImageFiles} other files). " +
                    $"Images are files ending in {string.Join(", ", DatasetReader.ImageExtensions.Order(StringComparer.Ordinal))}.");
            }

            if (page.Count > 0)
            {
                await HandOverAsync(dataset, location, page, onPage, withFingerprints, cancellationToken);
            }

            return new DatasetSummary(dataset.RootLocation, count, dataset.SkippedNonImageFiles);
        }
        catch (Exception e) when (e is InvalidDataException or BlobNotFoundException or DirectoryNotFoundException or FileNotFoundException)
        {
            throw new DatasetException($"The dataset '{location}' cannot be read: {e.Message}", e);
        }
    }

    private async Task HandOverAsync(
        Dataset dataset,
        string location,
        List<ShardImage> page,
        Func<IReadOnlyList<ShardImage>, CancellationToken, Task> onPage,
        bool withFingerprints,
        CancellationToken cancellationToken)
    {
        if (policy.CheckDatasetItems(dataset.RootLocation, page.Select(i => i.Path)) is { } refusal)
        {
            throw new DatasetException($"The dataset '{location}' cannot be used: {refusal.Message}");
        }

        if (withFingerprints)
        {
            await FingerprintAsync(dataset.Root, page, cancellationToken);
        }

        await onPage(page, cancellationToken);
    }

    /// <summary>Fills in the fingerprints the listing did not give (a manifest's images) from each image's properties.
    /// An image that does not exist keeps none: its record will say so.</summary>
    private static Task FingerprintAsync(ResolvedLocation root, List<ShardImage> page, CancellationToken cancellationToken) =>
        Parallel.ForAsync(0, page.Count, new ParallelOptions { MaxDegreeOfParallelism = PropertyParallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            if (page[i].Fingerprint is null && await root.Store.GetPropertiesAsync(root.KeyFor(page[i].Path), ct) is { } entry)
            {
                page[i] = page[i] with { Fingerprint = Fingerprints.FromListing(entry) };
            }
        });

    /// <summary>The item's label as a class index of the job's model.</summary>
    private static int? Label(DatasetItem item, string location, ClassLookup? lookup)
    {
        if (item.Label is null && item.LabelName is null)
        {
            return null;
        }

        if (lookup is null)
        {
            return item.LabelName is null
                ? item.Label
                : throw new DatasetException(
                    $"The manifest '{location}', line {item.LineNumber}: the label '{item.LabelName}' is not a class index, and the model's class names are not known to resolve it.");
        }

        var text = item.LabelName ?? item.Label!.Value.ToString(CultureInfo.InvariantCulture);
        return lookup.TryResolve(text, out var index, out var problem)
            ? index
            : throw new DatasetException($"The manifest '{location}', line {item.LineNumber}: {problem}.");
    }

    private static bool IsMissingLocalPath(string location)
    {
        try
        {
            var parsed = StorageLocation.Parse(location);
            return parsed.Scheme == StorageScheme.FileSystem && !Directory.Exists(parsed.Container) && !File.Exists(parsed.Container);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
