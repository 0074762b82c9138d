namespace EfficientNet.Batch.Models.Store;

/// <summary>Copies a stored model (imported, or random weights generated on demand) to a file of the user's choice,
/// verifying the copy's SHA-256 against the store's record before it appears under its name.</summary>
public sealed class ModelExporter(ModelStore store)
{
    /// <exception cref="Catalogue.UnknownModelException">The id is not in the catalogue.</exception>
    /// <exception cref="ModelNotAvailableException">No seed was given and nothing has been imported.</exception>
    /// <exception cref="ModelHashMismatchException">The stored file no longer matches its manifest; nothing was written.</exception>
    public async Task<ResolvedModel> ExportAsync(string modelId, int? randomSeed, string destination, CancellationToken ct)
    {
        var model = await store.ResolveAsync(modelId, randomSeed, ct);
        var target = Path.GetFullPath(destination);
        await using var source = new FileStream(model.OnnxPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        using var staged = await StagedFile.ReceiveAsync(source, Path.GetDirectoryName(target)!, Path.GetFileName(target), null, ct);
        if (staged.Sha256 != model.OnnxSha256)
        {
            throw new ModelHashMismatchException(model.Variant.Id, model.OnnxPath, model.OnnxSha256, staged.Sha256);
        }

        staged.Commit(target);
        return model;
    }
}
