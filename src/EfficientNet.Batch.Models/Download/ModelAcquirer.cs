using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Models.Download;

/// <summary>What <c>effnet run</c>/<c>classify</c> call before loading a model: the stored model when present,
/// otherwise a pull of its checkpoint on first use. Random-seed models are generated and never downloaded.</summary>
public sealed class ModelAcquirer(ModelStore store, ModelPuller puller) : IDisposable
{
    // One pull at a time per process: concurrent callers for a missing model wait and then find it stored.
    private readonly SemaphoreSlim _pullGate = new(1, 1);

    /// <exception cref="Catalogue.UnknownModelException">The id is not in the catalogue.</exception>
    /// <exception cref="ModelDownloadFailedException">The model was missing and no checkpoint URL worked.</exception>
    public async Task<ResolvedModel> EnsureAvailableAsync(string modelId, int? randomSeed, IPullReporter? reporter, CancellationToken ct)
    {
        if (randomSeed is not null || store.HasImportedWeights(modelId))
        {
            return await store.ResolveAsync(modelId, randomSeed, ct);
        }

        await _pullGate.WaitAsync(ct);
        try
        {
            return store.HasImportedWeights(modelId)
                ? await store.ResolveAsync(modelId, null, ct)
                : await puller.PullAsync(modelId, reporter, ct);
        }
        finally
        {
            _pullGate.Release();
        }
    }

    public void Dispose() => _pullGate.Dispose();
}
