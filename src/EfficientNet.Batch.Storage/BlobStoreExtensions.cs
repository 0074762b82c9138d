using System.Runtime.CompilerServices;

namespace EfficientNet.Batch.Storage;

public static class BlobStoreExtensions
{
    /// <summary>Every object under <paramref name="prefix"/>, page by page, in the store's ordinal key order.</summary>
    public static async IAsyncEnumerable<BlobEntry> ListAllAsync(
        this IBlobStore store, string prefix, int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? token = null;
        do
        {
            var page = await store.ListPageAsync(prefix, token, pageSize, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>Deletes every object under <paramref name="prefix"/> (a folder's prefix ends with '/'), a few at a
    /// time, and returns how many there were. The listing is read first, so the deletes cannot disturb its paging.</summary>
    public static async Task<int> DeleteAllAsync(this IBlobStore store, string prefix, CancellationToken cancellationToken, int parallelism = 8)
    {
        ArgumentNullException.ThrowIfNull(store);
        var keys = new List<string>();
        await foreach (var entry in store.ListAllAsync(prefix, 1000, cancellationToken))
        {
            keys.Add(entry.Key);
        }

        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (key, ct) =>
            await store.DeleteAsync(key, ct));
        return keys.Count;
    }
}
