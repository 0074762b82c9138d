using System.Collections.Concurrent;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Models;

/// <summary>
/// The blob-backed model store that distributed workers share. A worker copies a model into its local
/// <see cref="ModelStore"/> (verified by the manifest's SHA-256s; a custom model's class names come with it);
/// <c>effnet models publish</c> fills it. Before each shard the worker compares the shared manifest's ETag (one
/// metadata call) with the one it last synced: weights published again are picked up by the next shard, without a
/// restart, and the new weights' hash gives them a session of their own (<see cref="Inference.ModelSessionCache"/>).
/// Without <see cref="ModelStoreOptions.RemoteLocation"/> the local store is used alone.
/// </summary>
public sealed partial class SharedModelStore(
    ModelStore local,
    IStorageResolver storage,
    IOptions<ModelStoreOptions> options,
    ILogger<SharedModelStore> logger)
{
    private readonly ConcurrentDictionary<string, SyncState> _synced = new(StringComparer.Ordinal);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.Value.RemoteLocation);

    /// <summary>Makes the model's imported weights available locally, from the shared store when one is configured,
    /// and the latest published ones. Random weights of a zoo model are generated locally and need nothing; those of a
    /// custom model need its definition (arch, class names), which comes with its imported weights.</summary>
    public async Task EnsureLocalAsync(ModelRef model, CancellationToken cancellationToken)
    {
        if ((model.RandomWeights && ModelCatalogue.TryGet(model.ModelId, out _)) || !IsConfigured)
        {
            return;
        }

        var state = _synced.GetOrAdd(model.ModelId, _ => new SyncState());
        var published = await PublishedETagAsync(model.ModelId, cancellationToken);
        if (published is not null && published == state.ETag)
        {
            return;
        }

        // One sync per model at a time; a failed one is not remembered, so the next shard tries again (the model may be
        // published meanwhile).
        await state.Gate.WaitAsync(cancellationToken);
        try
        {
            if (published is null || published != state.ETag)
            {
                await SyncAsync(model.ModelId, cancellationToken);
                state.ETag = published;
            }
        }
        finally
        {
            state.Gate.Release();
        }
    }

    public Task PublishAsync(string modelId, CancellationToken cancellationToken) => CreateSource().PublishAsync(modelId, cancellationToken);

    private async Task SyncAsync(string modelId, CancellationToken cancellationToken)
    {
        var result = await CreateSource().SyncAsync(modelId, null, cancellationToken);
        LogSynced(modelId, options.Value.RemoteLocation!, result.Downloaded ? "downloaded" : "local copy verified");
    }

    /// <summary>The shared manifest's ETag, or null when there is none (the sync then says what is missing).</summary>
    private async Task<string?> PublishedETagAsync(string modelId, CancellationToken cancellationToken)
    {
        var remote = storage.Resolve(options.Value.RemoteLocation!);
        return (await remote.Store.GetPropertiesAsync(remote.KeyFor(BlobModelSource.ManifestKey(modelId)), cancellationToken))?.ETag;
    }

    private BlobModelSource CreateSource()
    {
        var remote = storage.Resolve(options.Value.RemoteLocation ?? throw new InvalidOperationException("Models:RemoteLocation is not set."));
        return new BlobModelSource(
            local,
            async (key, ct) =>
            {
                try
                {
                    return await remote.Store.OpenReadAsync(remote.KeyFor(key), ct);
                }
                catch (BlobNotFoundException)
                {
                    return null;
                }
            },
            async (key, content, ct) => await remote.Store.CommitAsync(remote.KeyFor(key), (destination, c) => content.CopyToAsync(destination, c), ct));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} from the shared store {Location}: {Outcome}")]
    private partial void LogSynced(string modelId, string location, string outcome);

    private sealed class SyncState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string? ETag { get; set; }
    }
}
