namespace EfficientNet.Batch.Components.Workers;

/// <summary>
/// The one device of a worker process, shared by every pipeline that runs on it (<see cref="ImageBatchClassifier"/>):
/// one batch runs at a time, whichever shard it belongs to, and while a batch runs on spinning CPU threads the decoders
/// of every pipeline pause (see <see cref="ImageBatchClassifier.PausesDecoding"/>). With two shards classified at once
/// (<see cref="WorkerOptions.ConcurrentShards"/>), the next shard reads and decodes while the current one runs its last
/// batches, so the device does not wait for a pipeline to fill at every shard boundary, and the two never run batches
/// over each other.
/// </summary>
public sealed class DeviceTurns : IDisposable
{
    private readonly SemaphoreSlim _device = new(1, 1);
    private readonly ManualResetEventSlim _decoding = new(initialState: true);

    /// <summary>Blocks a decoder while a batch that pauses decoding runs.</summary>
    public void WaitToDecode(CancellationToken cancellationToken) => _decoding.Wait(cancellationToken);

    /// <summary>Runs <paramref name="batch"/> when the device is free; with <paramref name="pauseDecoding"/>, every
    /// pipeline's decoders wait until it returns.</summary>
    public void Run(Action batch, bool pauseDecoding, CancellationToken cancellationToken)
    {
        _device.Wait(cancellationToken);
        try
        {
            if (pauseDecoding)
            {
                _decoding.Reset();
            }

            try
            {
                batch();
            }
            finally
            {
                _decoding.Set();
            }
        }
        finally
        {
            _device.Release();
        }
    }

    public void Dispose()
    {
        _device.Dispose();
        _decoding.Dispose();
    }
}
