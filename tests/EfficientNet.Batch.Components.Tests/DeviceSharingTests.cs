using EfficientNet.Batch.Components.Workers;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>Shards classified at once on one worker (<c>Worker:ConcurrentShards</c> 2): one batch on the device at a time,
/// decoders paused by any pipeline's batch, the same records as one shard after the other, and the worker's time
/// split among the shards it overlapped.</summary>
[Collection(WorkerCollection.Name)]
public sealed class DeviceSharingTests(WorkerFixture fixture)
{
    [Fact]
    public async Task Batches_of_concurrent_pipelines_never_run_on_the_device_at_once()
    {
        using var device = new DeviceTurns();
        var running = 0;
        var most = 0;
        var batches = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 25; i++)
            {
                device.Run(
                    () =>
                    {
                        var now = Interlocked.Increment(ref running);
                        InterlockedMax(ref most, now);
                        Thread.SpinWait(20_000);
                        Interlocked.Decrement(ref running);
                    },
                    pauseDecoding: false,
                    CancellationToken.None);
            }
        }));

        await Task.WhenAll(batches).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, most);
    }

    [Fact]
    public async Task A_batch_that_pauses_decoding_holds_back_the_decoders_of_every_pipeline_until_it_returns()
    {
        using var device = new DeviceTurns();
        using var inBatch = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var batch = Task.Run(() => device.Run(() => { inBatch.Set(); release.Wait(); }, pauseDecoding: true, CancellationToken.None));
        inBatch.Wait(TimeSpan.FromSeconds(30));

        var decoder = Task.Run(() => device.WaitToDecode(CancellationToken.None));
        await Task.Delay(200);
        Assert.False(decoder.IsCompleted);

        release.Set();
        await Task.WhenAll(batch, decoder).WaitAsync(TimeSpan.FromSeconds(30));

        // A batch that does not pause decoding (a GPU's) leaves the decoders running.
        using var gpuRelease = new ManualResetEventSlim();
        using var gpuInBatch = new ManualResetEventSlim();
        var gpu = Task.Run(() => device.Run(() => { gpuInBatch.Set(); gpuRelease.Wait(); }, pauseDecoding: false, CancellationToken.None));
        gpuInBatch.Wait(TimeSpan.FromSeconds(30));
        await Task.Run(() => device.WaitToDecode(CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(30));
        gpuRelease.Set();
        await gpu.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Two_shards_classified_at_once_give_the_records_each_gives_alone()
    {
        var (classifier, sessions) = fixture.CreateClassifier(batchSize: 4);
        using var _ = sessions;
        ImageInput[] Shard(int first) =>
            [.. Enumerable.Range(first, 10).Select(i => ImageInput.FromFile(fixture.Sample(i), name: $"{i}.jpg"))];
        var (a, b) = (Shard(0), Shard(10));

        var aloneA = await classifier.ClassifyAsync(WorkerFixture.Model, a, 5, null, CancellationToken.None);
        var aloneB = await classifier.ClassifyAsync(WorkerFixture.Model, b, 5, null, CancellationToken.None);
        var together = await Task.WhenAll(
            classifier.ClassifyAsync(WorkerFixture.Model, a, 5, null, CancellationToken.None),
            classifier.ClassifyAsync(WorkerFixture.Model, b, 5, null, CancellationToken.None)).WaitAsync(TimeSpan.FromMinutes(2));

        AssertSameRecords(aloneA, together[0]);
        AssertSameRecords(aloneB, together[1]);
    }

    [Fact]
    public void Overlapping_shards_share_the_time_they_overlapped_so_the_shares_add_up_to_the_busy_time()
    {
        var clock = new SteppedClock();
        var shares = new WorkerTimeShares(clock);

        var a = shares.Begin();
        clock.Advance(10);
        var b = shares.Begin();
        clock.Advance(10);
        a.Dispose();
        clock.Advance(10);
        b.Dispose();
        clock.Advance(5);
        var c = shares.Begin();
        clock.Advance(4);
        c.Dispose();

        Assert.Equal(15, a.Seconds, 6);
        Assert.Equal(15, b.Seconds, 6);
        Assert.Equal(4, c.Seconds, 6);
        // 34 s busy (the 5 s idle gap counts for nobody), not 10 + 20 + 20 + 4 of wall time.
        Assert.Equal(34, a.Seconds + b.Seconds + c.Seconds, 6);
    }

    private static void AssertSameRecords(ClassificationRun expected, ClassificationRun actual)
    {
        Assert.Equal(expected.Records.Select(r => r.Path), actual.Records.Select(r => r.Path));
        for (var i = 0; i < expected.Records.Count; i++)
        {
            Assert.Equal(expected.Records[i].Top!.Select(c => c.Index), actual.Records[i].Top!.Select(c => c.Index));
            Assert.Equal(expected.Records[i].Top!.Select(c => c.Probability), actual.Records[i].Top!.Select(c => c.Probability));
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>A clock whose timestamps move only when told (seconds).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(int seconds) => _ticks += seconds * TimeSpan.TicksPerSecond;
    }
}
