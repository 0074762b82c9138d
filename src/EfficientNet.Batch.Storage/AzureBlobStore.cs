using System.Buffers;
using System.Buffers.Binary;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace EfficientNet.Batch.Storage;

/// <summary>
/// <see cref="IBlobStore"/> over one Azure Blob Storage container (block blobs).
/// </summary>
/// <remarks>
/// <para>Every write, conditional or not, stages the content as blocks of the destination blob and publishes them with
/// one Put Block List. Staged blocks are invisible until that call, which is atomic, so readers never see partial
/// content and no temporary blob names exist. Write conditions are sent with the Put Block List (If-None-Match: *
/// for <see cref="WriteCondition.IfAbsent"/>, If-Match for an ETag), so they are checked atomically by the service.</para>
/// <para>The container is created on the first write if it does not exist. Reads of a missing container behave
/// like reads of an empty one, so reading a misspelt dataset location creates nothing.</para>
/// <para>ETags are returned without the surrounding quotes, the same form that listings report.</para>
/// </remarks>
public sealed class AzureBlobStore : IBlobStore
{
    /// <summary>Size of one staged block; also the write buffer held per in-flight write.</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    private readonly BlobContainerClient _container;
    private volatile bool _containerKnownToExist;

    public AzureBlobStore(BlobContainerClient container)
    {
        ArgumentNullException.ThrowIfNull(container);
        _container = container;
    }

    /// <summary>The container name.</summary>
    public string ContainerName => _container.Name;

    public string Describe(string key = "") =>
        key.Length == 0 ? $"az://{_container.Name}" : $"az://{_container.Name}/{key}";

    public async Task<BlobPage> ListPageAsync(string prefix, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        BlobKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        var options = new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix };
        try
        {
            // The service lists in ordinal (UTF-8 byte) key order, recursively when no delimiter is given.
            await foreach (var page in _container.GetBlobsAsync(options, cancellationToken).AsPages(continuationToken, pageSize))
            {
                var items = page.Values
                    .Select(blob => new BlobEntry(
                        blob.Name,
                        blob.Properties.ContentLength ?? 0,
                        Unquote(blob.Properties.ETag),
                        blob.Properties.LastModified ?? DateTimeOffset.MinValue,
                        Md5(blob.Properties.ContentHash)))
                    .ToList();
                return new BlobPage(items, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
            }
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
        }

        return new BlobPage([], null);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        BlobKey.Validate(key);
        try
        {
            // One GET of the whole blob: a consistent version, and the SDK resumes it with If-Match on network errors.
            var download = await _container.GetBlobClient(key).DownloadStreamingAsync(cancellationToken: cancellationToken);
            return download.Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new BlobNotFoundException(key, e);
        }
    }

    public async Task<BlobEntry?> GetPropertiesAsync(string key, CancellationToken cancellationToken)
    {
        BlobKey.Validate(key);
        try
        {
            var properties = (await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new BlobEntry(key, properties.ContentLength, Unquote(properties.ETag), properties.LastModified, Md5(properties.ContentHash));
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public Task<BlobEntry> WriteAsync(string key, Stream content, WriteCondition condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        return PublishAsync(key, (target, ct) => content.CopyToAsync(target, BlockSize, ct), condition, cancellationToken);
    }

    public Task<BlobEntry> CommitAsync(string key, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writeContent);
        return PublishAsync(key, writeContent, WriteCondition.None, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        BlobKey.Validate(key);
        try
        {
            var response = await _container.GetBlobClient(key)
                .DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);
            return response.Value;
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            return false;
        }
    }

    private async Task<BlobEntry> PublishAsync(
        string key, Func<Stream, CancellationToken, Task> writeContent, WriteCondition condition, CancellationToken cancellationToken)
    {
        BlobKey.Validate(key);
        await EnsureContainerAsync(cancellationToken);
        var blob = _container.GetBlockBlobClient(key);
        var staging = new BlockStagingStream(blob);
        try
        {
            await writeContent(staging, cancellationToken);
            var info = await staging.CommitAsync(ConditionsOf(condition), cancellationToken);
            return new BlobEntry(key, staging.BytesWritten, Unquote(info.ETag), info.LastModified);
        }
        catch (RequestFailedException e) when (condition != WriteCondition.None && IsConditionFailure(e))
        {
            throw new BlobConditionFailedException(key, e);
        }
        finally
        {
            staging.ReleaseBuffer();
        }
    }

    private static bool IsConditionFailure(RequestFailedException e) =>
        e.Status is 409 or 412
        || e.ErrorCode == BlobErrorCode.BlobNotFound // If-Match on a blob that is gone
        // A concurrent writer's Put Block List discarded our staged blocks: the blob changed after this write began,
        // so its condition (absent, or the ETag it was based on) no longer holds.
        || e.ErrorCode == BlobErrorCode.InvalidBlockList;

    private static BlobRequestConditions? ConditionsOf(WriteCondition condition)
    {
        if (condition == WriteCondition.None)
        {
            return null;
        }

        return new BlobRequestConditions
        {
            IfNoneMatch = condition.IfAbsent ? ETag.All : null,
            IfMatch = condition.IfMatchETag is { } etag ? new ETag(Quote(etag)) : null,
        };
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerKnownToExist)
        {
            return;
        }

        // Idempotent, so concurrent first writers may all call it.
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        _containerKnownToExist = true;
    }

    private static string? Md5(byte[]? hash) => hash is { Length: > 0 } ? Convert.ToBase64String(hash) : null;

    private static string Unquote(ETag? etag) => etag?.ToString().Trim('"') ?? "";

    private static string Quote(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";

    /// <summary>
    /// Write-only stream that stages every <see cref="BlockSize"/> bytes as an uncommitted block of one blob.
    /// Flush deliberately publishes nothing (unlike the SDK's OpenWrite stream, whose Flush commits): content becomes
    /// visible only through <see cref="CommitAsync"/>, after the producer has finished.
    /// </summary>
    private sealed class BlockStagingStream(BlockBlobClient blob) : Stream
    {
        // Every writer uses ids of the same length (Azure requires it among a blob's uncommitted blocks), unique per
        // writer so that concurrent writers of one key never reuse each other's blocks: 16 random bytes + block index.
        private readonly byte[] _writerId = Guid.NewGuid().ToByteArray();
        private readonly List<string> _blockIds = [];
        // Not released by Dispose: the producer may dispose the stream it was given, and the buffer must survive
        // until the commit. The owner calls ReleaseBuffer.
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        private int _buffered;

        public long BytesWritten { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => BytesWritten;

        public override long Position
        {
            get => BytesWritten;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                var taken = Append(buffer);
                buffer = buffer[taken..];
                if (_buffered == BlockSize)
                {
                    StageBufferedAsync(synchronous: true, CancellationToken.None).GetAwaiter().GetResult();
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (!buffer.IsEmpty)
            {
                var taken = Append(buffer.Span);
                buffer = buffer[taken..];
                if (_buffered == BlockSize)
                {
                    await StageBufferedAsync(synchronous: false, cancellationToken);
                }
            }
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public async Task<BlobContentInfo> CommitAsync(BlobRequestConditions? conditions, CancellationToken cancellationToken)
        {
            if (_buffered > 0)
            {
                await StageBufferedAsync(synchronous: false, cancellationToken);
            }

            var response = await blob.CommitBlockListAsync(
                _blockIds, new CommitBlockListOptions { Conditions = conditions }, cancellationToken);
            return response.Value;
        }

        public void ReleaseBuffer()
        {
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private int Append(ReadOnlySpan<byte> source)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(BlockStagingStream));
            var taken = Math.Min(source.Length, BlockSize - _buffered);
            source[..taken].CopyTo(buffer.AsSpan(_buffered));
            _buffered += taken;
            BytesWritten += taken;
            return taken;
        }

        private string NextBlockId()
        {
            Span<byte> id = stackalloc byte[20];
            _writerId.CopyTo(id);
            BinaryPrimitives.WriteInt32BigEndian(id[16..], _blockIds.Count);
            return Convert.ToBase64String(id);
        }

        private async Task StageBufferedAsync(bool synchronous, CancellationToken cancellationToken)
        {
            var blockId = NextBlockId();
            using var content = new MemoryStream(_buffer!, 0, _buffered, writable: false);
            if (synchronous)
            {
                blob.StageBlock(blockId, content, options: null, cancellationToken);
            }
            else
            {
                await blob.StageBlockAsync(blockId, content, options: null, cancellationToken);
            }

            _blockIds.Add(blockId);
            _buffered = 0;
        }
    }
}
