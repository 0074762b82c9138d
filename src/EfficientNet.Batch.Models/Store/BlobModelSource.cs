using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>What <see cref="BlobModelSource.SyncAsync"/> did.</summary>
/// <param name="Downloaded">False when the local copy already had the shared manifest's hash.</param>
public sealed record BlobSyncResult(ResolvedModel Model, bool Downloaded);

/// <summary>Keeps a worker's local <see cref="ModelStore"/> in step with a shared one (Azure Blob in production):
/// objects <c>{id}/model.onnx</c> and <c>{id}/model.json</c>, the manifest holding the ONNX file's SHA-256. A local copy
/// is used only if its bytes hash to the shared manifest's value; a download is installed only after its hash checks
/// out. The remote is reached through delegates so this project needs no storage SDK.</summary>
/// <param name="openRemote">Opens a remote object for reading, or returns null when it does not exist.</param>
/// <param name="uploadRemote">Writes a remote object, replacing it; needed only for <see cref="PublishAsync"/>.</param>
public sealed class BlobModelSource(
    ModelStore store,
    Func<string, CancellationToken, Task<Stream?>> openRemote,
    Func<string, Stream, CancellationToken, Task>? uploadRemote = null)
{
    public static string OnnxKey(string modelId) => $"{ModelCatalogue.Get(modelId).Id}/model.onnx";

    public static string ManifestKey(string modelId) => $"{ModelCatalogue.Get(modelId).Id}/model.json";

    /// <summary>Makes the shared model available locally, downloading it when it is missing or differs.</summary>
    /// <param name="progress">Bytes of the ONNX file received, when it is downloaded.</param>
    /// <exception cref="RemoteModelNotFoundException">The shared store lacks the manifest or the ONNX file.</exception>
    /// <exception cref="ModelHashMismatchException">The downloaded ONNX file does not hash to the manifest's value; nothing was installed.</exception>
    /// <exception cref="InvalidDataException">The shared manifest is unreadable or describes another model.</exception>
    public async Task<BlobSyncResult> SyncAsync(string modelId, IProgress<long>? progress, CancellationToken ct)
    {
        var variant = ModelCatalogue.Get(modelId);
        var remote = await ReadRemoteManifestAsync(variant, ct);
        var localOnnx = store.ImportedOnnxPath(variant.Id);
        if (File.Exists(store.ImportedManifestPath(variant.Id)) && File.Exists(localOnnx)
            && await FileSha256.ComputeAsync(localOnnx, ct) == remote.OnnxSha256)
        {
            return new BlobSyncResult(await store.ResolveAsync(variant.Id, null, ct), Downloaded: false);
        }

        var key = OnnxKey(variant.Id);
        await using var stream = await openRemote(key, ct) ?? throw new RemoteModelNotFoundException(variant.Id, key);
        using var staged = await StagedFile.ReceiveAsync(stream, Path.GetDirectoryName(localOnnx)!, Path.GetFileName(localOnnx), progress, ct);
        if (staged.Sha256 != remote.OnnxSha256)
        {
            throw new ModelHashMismatchException(variant.Id, $"shared object '{key}'", remote.OnnxSha256, staged.Sha256);
        }

        return new BlobSyncResult(await store.InstallImportedAsync(variant, staged, remote, ct), Downloaded: true);
    }

    /// <summary>Uploads the local model for workers: the ONNX file first, then the manifest, so a reader that finds
    /// the new manifest also finds the file it describes.</summary>
    /// <exception cref="ModelNotAvailableException">The model is not in the local store.</exception>
    /// <exception cref="ModelHashMismatchException">The local ONNX file no longer matches its manifest; nothing was uploaded.</exception>
    public async Task PublishAsync(string modelId, CancellationToken ct)
    {
        if (uploadRemote is null)
        {
            throw new InvalidOperationException("This model source was created without an upload function.");
        }

        var variant = ModelCatalogue.Get(modelId);
        var manifestPath = store.ImportedManifestPath(variant.Id);
        var onnxPath = store.ImportedOnnxPath(variant.Id);
        if (!File.Exists(manifestPath) || !File.Exists(onnxPath))
        {
            throw new ModelNotAvailableException(variant.Id, onnxPath);
        }

        var manifest = await ModelManifest.ReadAsync(manifestPath, ct);
        var actual = await FileSha256.ComputeAsync(onnxPath, ct);
        if (actual != manifest.OnnxSha256)
        {
            throw new ModelHashMismatchException(variant.Id, onnxPath, manifest.OnnxSha256, actual);
        }

        await using (var onnx = new FileStream(onnxPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
        {
            await uploadRemote(OnnxKey(variant.Id), onnx, ct);
        }

        await using var json = new MemoryStream(manifest.ToJsonBytes(), writable: false);
        await uploadRemote(ManifestKey(variant.Id), json, ct);
    }

    private async Task<ModelManifest> ReadRemoteManifestAsync(ModelVariant variant, CancellationToken ct)
    {
        var key = ManifestKey(variant.Id);
        await using var stream = await openRemote(key, ct) ?? throw new RemoteModelNotFoundException(variant.Id, key);
        var manifest = await ModelManifest.ReadAsync(stream, key, ct);
        if (!string.Equals(manifest.Id, variant.Id, StringComparison.Ordinal) || string.IsNullOrEmpty(manifest.OnnxSha256))
        {
            throw new InvalidDataException($"{key} describes model '{manifest.Id}' (ONNX sha256 '{manifest.OnnxSha256}'), not '{variant.Id}'.");
        }

        return manifest;
    }
}
