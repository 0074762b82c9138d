using System.Security.Cryptography;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Store;

/// <summary>What <see cref="BlobModelSource.SyncAsync"/> did.</summary>
/// <param name="Downloaded">False when the local copy already had the shared manifest's hash.</param>
public sealed record BlobSyncResult(ResolvedModel Model, bool Downloaded);

/// <summary>Keeps a worker's local <see cref="ModelStore"/> in step with a shared one (Azure Blob in production):
/// objects <c>{id}/model.onnx</c> and <c>{id}/model.json</c>, the manifest holding the ONNX file's SHA-256, and for a
/// custom model <c>{id}/classes.txt</c>, its class names, whose SHA-256 the manifest holds too. A local copy is used
/// only if its bytes hash to the shared manifest's values; a download is installed only after its hashes check out.
/// The remote is reached through delegates so this project needs no storage SDK.</summary>
/// <param name="openRemote">Opens a remote object for reading, or returns null when it does not exist.</param>
/// <param name="uploadRemote">Writes a remote object, replacing it; needed only for <see cref="PublishAsync"/>.</param>
public sealed class BlobModelSource(
    ModelStore store,
    Func<string, CancellationToken, Task<Stream?>> openRemote,
    Func<string, Stream, CancellationToken, Task>? uploadRemote = null)
{
    /// <summary>A class names file larger than this is no names list (100,000 long names fit).</summary>
    private const int MaxClassNamesBytes = 16 << 20;

    /// <exception cref="UnknownModelException">Neither a zoo id nor a valid custom model name.</exception>
    public static string OnnxKey(string modelId) => $"{ModelStore.StoredId(modelId)}/model.onnx";

    /// <inheritdoc cref="OnnxKey"/>
    public static string ManifestKey(string modelId) => $"{ModelStore.StoredId(modelId)}/model.json";

    /// <summary>A custom model's class names: <c>{name}/classes.txt</c>.</summary>
    /// <inheritdoc cref="OnnxKey"/>
    public static string ClassNamesKey(string modelId) => $"{ModelStore.StoredId(modelId)}/{ClassNames.FileName}";

    /// <summary>Makes the shared model available locally, downloading it when it is missing or differs.</summary>
    /// <param name="progress">Bytes of the ONNX file received, when it is downloaded.</param>
    /// <exception cref="UnknownModelException">Neither a zoo id nor a valid custom model name.</exception>
    /// <exception cref="RemoteModelNotFoundException">The shared store lacks the manifest, the ONNX file or a custom model's class names.</exception>
    /// <exception cref="ModelHashMismatchException">A downloaded file does not hash to the manifest's value; nothing was installed.</exception>
    /// <exception cref="InvalidDataException">The shared manifest is unreadable or describes another model.</exception>
    public async Task<BlobSyncResult> SyncAsync(string modelId, IProgress<long>? progress, CancellationToken ct)
    {
        var id = ModelStore.StoredId(modelId);
        var remote = await ReadRemoteManifestAsync(id, ct);
        var localOnnx = store.ImportedOnnxPath(id);
        if (File.Exists(store.ImportedManifestPath(id)) && File.Exists(localOnnx)
            && await FileSha256.ComputeAsync(localOnnx, ct) == remote.OnnxSha256
            && (!remote.IsCustom || await LocalClassNamesMatchAsync(id, remote.ClassesSha256!, ct)))
        {
            return new BlobSyncResult(await store.ResolveAsync(id, null, ct), Downloaded: false);
        }

        // The names first: small, and a model whose names are missing must not be installed half.
        var classNames = remote.IsCustom ? await DownloadClassNamesAsync(id, remote, ct) : null;
        var key = OnnxKey(id);
        await using var stream = await openRemote(key, ct) ?? throw new RemoteModelNotFoundException(id, key);
        using var staged = await StagedFile.ReceiveAsync(stream, Path.GetDirectoryName(localOnnx)!, Path.GetFileName(localOnnx), progress, ct);
        if (staged.Sha256 != remote.OnnxSha256)
        {
            throw new ModelHashMismatchException(id, $"shared object '{key}'", remote.OnnxSha256, staged.Sha256);
        }

        return new BlobSyncResult(await store.InstallImportedAsync(id, staged, classNames, remote, ct), Downloaded: true);
    }

    /// <summary>Uploads the local model for workers: the ONNX file (and a custom model's class names) first, then
    /// the manifest, so a reader that finds the new manifest also finds the files it describes.</summary>
    /// <exception cref="UnknownModelException">Neither a zoo id nor a custom model in the local store.</exception>
    /// <exception cref="ModelNotAvailableException">The zoo model is not in the local store.</exception>
    /// <exception cref="ModelHashMismatchException">A local file no longer matches its manifest; nothing was uploaded.</exception>
    public async Task PublishAsync(string modelId, CancellationToken ct)
    {
        if (uploadRemote is null)
        {
            throw new InvalidOperationException("This model source was created without an upload function.");
        }

        var id = ModelStore.StoredId(modelId);
        var manifestPath = store.ImportedManifestPath(id);
        var onnxPath = store.ImportedOnnxPath(id);
        if (!ModelCatalogue.TryGet(id, out _) && await store.FindCustomAsync(id, ct) is null)
        {
            throw new UnknownModelException(modelId, ModelCatalogue.All.Select(v => v.Id));
        }

        if (!File.Exists(manifestPath) || !File.Exists(onnxPath))
        {
            throw new ModelNotAvailableException(id, onnxPath);
        }

        var manifest = await ModelManifest.ReadAsync(manifestPath, ct);
        var actual = await FileSha256.ComputeAsync(onnxPath, ct);
        if (actual != manifest.OnnxSha256)
        {
            throw new ModelHashMismatchException(id, onnxPath, manifest.OnnxSha256, actual);
        }

        await using (var onnx = new FileStream(onnxPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
        {
            await uploadRemote(OnnxKey(id), onnx, ct);
        }

        if (manifest.IsCustom)
        {
            // FindCustomAsync above checked these bytes against the manifest.
            await using var names = new MemoryStream(await File.ReadAllBytesAsync(store.ClassNamesPath(id), ct), writable: false);
            await uploadRemote(ClassNamesKey(id), names, ct);
        }

        await using var json = new MemoryStream(manifest.ToJsonBytes(), writable: false);
        await uploadRemote(ManifestKey(id), json, ct);
    }

    private async Task<ModelManifest> ReadRemoteManifestAsync(string id, CancellationToken ct)
    {
        var key = ManifestKey(id);
        await using var stream = await openRemote(key, ct) ?? throw new RemoteModelNotFoundException(id, key);
        var manifest = await ModelManifest.ReadAsync(stream, key, ct);
        if (!string.Equals(manifest.Id, id, StringComparison.Ordinal) || string.IsNullOrEmpty(manifest.OnnxSha256))
        {
            throw new InvalidDataException($"{key} describes model '{manifest.Id}' (ONNX sha256 '{manifest.OnnxSha256}'), not '{id}'.");
        }

        // A zoo id's manifest never names class names, a custom name's always does.
        if (manifest.IsCustom == ModelCatalogue.TryGet(id, out _))
        {
            throw new InvalidDataException(manifest.IsCustom
                ? $"{key} describes a custom model, but '{id}' is a zoo model."
                : $"{key} describes no custom model (it names no class names file), but '{id}' is not a zoo model.");
        }

        return manifest;
    }

    private async Task<bool> LocalClassNamesMatchAsync(string id, string sha256, CancellationToken ct)
    {
        var path = store.ClassNamesPath(id);
        return File.Exists(path) && await FileSha256.ComputeAsync(path, ct) == sha256;
    }

    /// <summary>The shared class names, checked against the manifest's hash and that they define the model.</summary>
    private async Task<byte[]> DownloadClassNamesAsync(string id, ModelManifest remote, CancellationToken ct)
    {
        var key = ClassNamesKey(id);
        await using var stream = await openRemote(key, ct) ?? throw new RemoteModelNotFoundException(id, key);
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxClassNamesBytes)
            {
                throw new InvalidDataException($"Shared object '{key}' is larger than {MaxClassNamesBytes} bytes: no class names list.");
            }
        }

        var bytes = buffer.ToArray();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha256 != remote.ClassesSha256)
        {
            throw new ModelHashMismatchException(id, $"shared object '{key}'", remote.ClassesSha256!, sha256);
        }

        _ = remote.ToCustomModel(bytes, ManifestKey(id));
        return bytes;
    }
}
