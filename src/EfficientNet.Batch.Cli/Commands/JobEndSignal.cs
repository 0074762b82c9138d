using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>Completes when the coordinator in this process has published a job's end (<see cref="JobCompleted"/>,
/// after the job's final state is stored), so that <c>run</c> reads that state at once rather than at its display's
/// next tick.</summary>
internal sealed class JobEndSignal
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Ended => _ended.Task;

    public void Set() => _ended.TrySetResult();
}

/// <summary>Publishes through <paramref name="inner"/> (the bus), then sets the <see cref="JobEndSignal"/> once a
/// job's end is out.</summary>
internal sealed class SignallingJobEventPublisher(IJobEventPublisher inner, JobEndSignal signal) : IJobEventPublisher
{
    public async Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken)
    {
        await inner.PublishAsync(completed, cancellationToken);
        signal.Set();
    }

    // A cancellation asked for is not the job's end: its shards still stop and merge.
    public Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken) => inner.PublishAsync(cancelled, cancellationToken);
}
