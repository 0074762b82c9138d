using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>A listed dataset: the location its paths are relative to, its images in order, and what was left out.</summary>
public sealed record DatasetListing(string Root, IReadOnlyList<ShardImage> Images, long SkippedFiles);

/// <summary>The dataset cannot be used: missing, empty, or a malformed manifest. The job fails with this message.</summary>
public sealed class DatasetException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Lists a dataset (a folder/prefix of images or a manifest) into shard-ready image entries.</summary>
public sealed class DatasetLister(DatasetReader reader)
{
    public async Task<DatasetListing> ListAsync(string location, CancellationToken cancellationToken)
    {
        try
        {
            var dataset = await reader.OpenAsync(location, cancellationToken);
            var images = new List<ShardImage>();
            await foreach (var item in dataset.ReadItemsAsync(cancellationToken))
            {
                images.Add(new ShardImage(item.Path, item.Label));
            }

            if (images.Count == 0)
            {
                throw new DatasetException(
                    $"The dataset '{location}' holds no images ({dataset.SkippedNonImageFiles} other files). " +
                    $"Images are files ending in {string.Join(", ", DatasetReader.ImageExtensions.Order(StringComparer.Ordinal))}.");
            }

            return new DatasetListing(dataset.RootLocation, images, dataset.SkippedNonImageFiles);
        }
        catch (Exception e) when (e is InvalidDataException or BlobNotFoundException or DirectoryNotFoundException or FileNotFoundException)
        {
            throw new DatasetException($"The dataset '{location}' cannot be read: {e.Message}", e);
        }
    }
}
