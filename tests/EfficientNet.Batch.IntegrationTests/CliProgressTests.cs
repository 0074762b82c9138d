using EfficientNet.Batch.Cli;
using EfficientNet.Batch.Cli.Commands;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary><c>effnet run</c>'s wait for its job: the job's end, announced in process, is read at once.</summary>
public sealed class CliProgressTests
{
    private static readonly Guid JobId = Guid.NewGuid();

    [Fact]
    public async Task A_job_end_announced_is_read_at_once_not_at_the_next_tick()
    {
        var ended = new JobEndSignal();
        var finished = false;
        var reads = 0;
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // An hour between looks: only the signal can end this wait within the test's timeout.
        var wait = ProgressDisplay.WaitAsync(
            () =>
            {
                Interlocked.Increment(ref reads);
                firstRead.TrySetResult();
                return Task.FromResult(ProgressReading.Of(View(Volatile.Read(ref finished) ? JobStatus.Completed : JobStatus.Running)));
            },
            TimeSpan.FromHours(1),
            CancellationToken.None,
            ended.Ended);
        await firstRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Volatile.Write(ref finished, true);
        ended.Set();

        var final = await wait.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Completed, final.Status);
        Assert.Equal(2, Volatile.Read(ref reads));
    }

    [Fact]
    public async Task An_end_announced_before_it_can_be_read_goes_back_to_the_tick_instead_of_spinning()
    {
        var ended = new JobEndSignal();
        ended.Set();
        var reads = 0;
        var tick = TimeSpan.FromMilliseconds(100);
        var started = TimeProvider.System.GetTimestamp();

        // Running for five reads, then completed: one look at once after the signal, then three ticks.
        var final = await ProgressDisplay.WaitAsync(
            () => Task.FromResult(ProgressReading.Of(View(++reads < 6 ? JobStatus.Running : JobStatus.Completed))),
            tick,
            CancellationToken.None,
            ended.Ended).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Completed, final.Status);
        Assert.Equal(6, reads);
        // Reads 1 and 2 came without a wait, reads 3 to 6 each after a whole tick (a delay never ends early).
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= 4 * tick - TimeSpan.FromMilliseconds(20),
            $"{TimeProvider.System.GetElapsedTime(started).TotalMilliseconds} ms for 6 reads");
    }

    [Fact]
    public async Task Only_a_published_job_end_sets_the_signal()
    {
        var inner = new RecordingPublisher();
        var signal = new JobEndSignal();
        var publisher = new SignallingJobEventPublisher(inner, signal);

        await publisher.PublishAsync(new JobCancelled(JobId), CancellationToken.None);
        Assert.False(signal.Ended.IsCompleted);

        inner.Fail = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() => publisher.PublishAsync(Completed(), CancellationToken.None));
        Assert.False(signal.Ended.IsCompleted);

        inner.Fail = false;
        await publisher.PublishAsync(Completed(), CancellationToken.None);
        Assert.True(signal.Ended.IsCompletedSuccessfully);
        Assert.Equal([nameof(JobCancelled), nameof(JobCompleted)], inner.Published);
    }

    private static JobCompleted Completed() => new(JobId, nameof(JobStatus.Completed), "out/predictions.jsonl", "out/summary.json", 3, 0, 1.0);

    private static JobView View(JobStatus status)
    {
        var done = status == JobStatus.Completed;
        return new JobView(
            JobId, status, "efficientnet_b0", "dataset", "out", JobPriority.Normal, 3, 1, done ? 1 : 0, done ? 3 : 0, 0, 0,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, done ? DateTimeOffset.UnixEpoch : null, null,
            new JobProgress(0, done ? 0 : 1, done ? 1 : 0, 0, 0, done ? 3 : 0, 0, null));
    }

    private sealed class RecordingPublisher : IJobEventPublisher
    {
        public bool Fail { get; set; }

        public List<string> Published { get; } = [];

        public Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new InvalidOperationException("the bus is down");
            }

            Published.Add(nameof(JobCompleted));
            return Task.CompletedTask;
        }

        public Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken)
        {
            Published.Add(nameof(JobCancelled));
            return Task.CompletedTask;
        }
    }
}
