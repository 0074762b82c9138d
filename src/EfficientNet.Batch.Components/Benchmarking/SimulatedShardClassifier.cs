using System.Diagnostics;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Benchmarking;

/// <summary>The simulated accelerators of <c>effnet bench system</c>: how many, and the fixed time each spends per image.</summary>
public sealed record SimulatedDevices(int Count, TimeSpan PerImage);

/// <summary>
/// A worker's shard classifier with the model replaced by a simulated device: a shard holds one of
/// <see cref="SimulatedDevices.Count"/> devices for its images' fixed cost, then commits one record per image under the
/// shard's result name, as a worker does. The images are not read. Everything around it is the real code, and is what
/// the system benchmark measures: the coordinator's listing, planning and dispatch, the bus, outcome recording, status
/// and the merge.
/// </summary>
public sealed class SimulatedShardClassifier(IStorageResolver storage, SimulatedDevices devices) : IShardClassifier, IDisposable
{
    public const string WorkerName = "simulated";

    private readonly SemaphoreSlim _devices = new(devices.Count);

    public async Task<ShardClassified> ClassifyAsync(ClassifyShard shard, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await _devices.WaitAsync(cancellationToken);
        try
        {
            await Task.Delay(devices.PerImage * shard.Images.Count, cancellationToken);
        }
        finally
        {
            _devices.Release();
        }

        var output = storage.Resolve(shard.OutputLocation);
        await output.Store.CommitAsync(
            output.KeyFor(shard.ResultKey),
            (stream, ct) => PredictionWriter.WriteAsync(stream, shard.Images.Select((image, i) => Predict(image, shard.ShardIndex, i)), ct),
            cancellationToken);
        return new ShardClassified(
            shard.JobId,
            shard.ShardIndex,
            StorageKeys.JoinLocation(shard.OutputLocation, shard.ResultKey),
            shard.Images.Count,
            0,
            WorkerName,
            Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3),
            Weights: "simulated device (no model)",
            ExecutionProvider: "Simulated",
            Untrained: true);
    }

    public void Dispose() => _devices.Dispose();

    // Like a model that is right four times in five: a labelled image gets its label as top-1, every fifth the next
    // class instead (so the evaluation counts a realistic set of confused pairs); an unlabelled one a spread of
    // classes. The same on every run.
    private static PredictionRecord Predict(ShardImage image, int shardIndex, int position)
    {
        var classes = ImageNetClasses.Names.Count;
        var index = image.Label is { } label
            ? (position % 5 == 0 ? label + 1 : label) % classes
            : (int)(((long)shardIndex * 7919 + position) % classes);
        return new PredictionRecord { Path = image.Path, Label = image.Label, Top = [new PredictedClass(index, ImageNetClasses.Names[index], 0.5f)] };
    }
}
