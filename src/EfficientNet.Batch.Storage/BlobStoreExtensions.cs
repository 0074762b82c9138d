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
}
