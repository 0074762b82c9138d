using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components;

/// <summary>JSON documents in a blob store with optimistic concurrency: the state stores' one way to read an object
/// together with the entity tag of exactly what was read, and to write one under a condition.</summary>
internal static class JsonObjects
{
    public static async Task WriteAsync<T>(
        this IBlobStore store, string key, T value, JsonTypeInfo<T> typeInfo, WriteCondition condition, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await JsonSerializer.SerializeAsync(buffer, value, typeInfo, cancellationToken);
        buffer.Position = 0;
        await store.WriteAsync(key, buffer, condition, cancellationToken);
    }

    /// <summary>Reads an object and the entity tag of exactly the content read: the tag is checked before and after,
    /// and the read is repeated if a writer slipped in between. Null when the object does not exist.</summary>
    public static async Task<(T Value, string ETag)?> ReadAsync<T>(this IBlobStore store, string key, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var before = await store.GetPropertiesAsync(key, cancellationToken);
            if (before is null)
            {
                return null;
            }

            T? value;
            try
            {
                await using var stream = await store.OpenReadAsync(key, cancellationToken);
                value = await JsonSerializer.DeserializeAsync(stream, typeInfo, cancellationToken);
            }
            catch (BlobNotFoundException)
            {
                return null;
            }

            var after = await store.GetPropertiesAsync(key, cancellationToken);
            if (after is not null && after.ETag == before.ETag && value is not null)
            {
                return (value, after.ETag);
            }
        }

        throw new InvalidOperationException($"'{store.Describe(key)}' keeps changing while being read.");
    }
}
