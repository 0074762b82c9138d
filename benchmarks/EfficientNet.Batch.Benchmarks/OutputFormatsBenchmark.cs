using System.Diagnostics;
using System.Globalization;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Outputs;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Benchmarks;

/// <summary>
/// <c>output-formats [RECORDS] [FORMAT…]</c>: streams RECORDS synthetic records (5 classes each, 1 in 50 an error) through the
/// JSONL, CSV and Parquet writers (or the formats named) into temp files, as the merge does, and prints per format the time, the rate, the
/// file size, the peak managed heap and working set sampled while it ran (garbage included), and the live heap after a
/// full collection at each tenth of the records (what the writer holds on to) and once the writer is closed (what
/// stays in process-wide pools). Records are generated as they are
/// written, so what grows with RECORDS is the writer's: run it at 100,000 and 1,000,000 to see the peaks stay flat.
/// </summary>
internal static class OutputFormatsBenchmark
{
    private const int Classes = 5;

    public static async Task RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        IOutputFormat[] all = [new JsonlOutputFormat(), new CsvOutputFormat(), new ParquetOutputFormat()];
        var formats = args.Length > 1 ? all.Where(f => args.Skip(1).Contains(f.Name, StringComparer.OrdinalIgnoreCase)).ToArray() : all;
        Console.WriteLine($"output-formats: {records:N0} records, {Classes} classes each, .NET {Environment.Version}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"format",-8} {"seconds",8} {"records/s",12} {"file MiB",9} {"peak heap MiB",14} {"peak WS MiB",12} {"allocated MiB",14}");
        var results = new List<(string Format, Result Result)>();
        foreach (var format in formats)
        {
            var result = await MeasureAsync(format, records);
            results.Add((format.Name, result));
            Console.WriteLine(
                $"{format.Name,-8} {result.Seconds,8:F2} {records / result.Seconds,12:N0} {result.FileBytes / 1048576.0,9:F1} " +
                $"{result.PeakHeap / 1048576.0,14:F1} {result.PeakWorkingSet / 1048576.0,12:F1} {result.Allocated / 1048576.0,14:F0}");
        }

        Console.WriteLine("live heap MiB after a full collection at each tenth of the records | once the writer is closed:");
        foreach (var (format, result) in results)
        {
            Console.WriteLine(
                $"{format,-8} {string.Join(' ', result.Live.Select(b => (b / 1048576.0).ToString("F1", CultureInfo.InvariantCulture)))} | " +
                $"{result.LiveAfterClose / 1048576.0:F1}");
        }

        Console.WriteLine($"process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F1} MiB");
    }

    private static async Task<Result> MeasureAsync(IOutputFormat format, int records)
    {
        var path = Path.Combine(Path.GetTempPath(), $"effnet-bench-{Guid.NewGuid():N}-{format.FileName}");
        try
        {
            // Start each format from a collected heap, so one format's garbage is not counted in the next one's peak.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using var sampler = new PeakSampler();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var checkpoint = Math.Max(1, records / 10);
            var live = new List<long>();
            var clock = Stopwatch.StartNew();
            await using (var destination = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await using (var writer = format.Create(new OutputContext(destination, Classes)))
                {
                    var written = 0;
                    foreach (var record in Synthetic(records))
                    {
                        await writer.WriteAsync(record, CancellationToken.None);
                        if (++written % checkpoint == 0)
                        {
                            // What the writer retains (plus this loop's few objects), not its garbage.
                            live.Add(GC.GetTotalMemory(forceFullCollection: true));
                        }
                    }

                    await writer.CompleteAsync(Summary(records), CancellationToken.None);
                }

                await destination.FlushAsync();
            }

            clock.Stop();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var (heap, workingSet) = sampler.Stop();
            var liveAfterClose = GC.GetTotalMemory(forceFullCollection: true);
            return new Result(clock.Elapsed.TotalSeconds, new FileInfo(path).Length, heap, workingSet, live, liveAfterClose, allocated);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Records shaped like a photo library's: nested folders, ImageNet class names (commas included), a
    /// label on every other image, and an error in 1 of 50.</summary>
    private static IEnumerable<PredictionRecord> Synthetic(int count)
    {
        string[] names = ["tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark", "tiger cat", "Egyptian cat", "golden retriever", "sports car, sport car", "espresso"];
        string[] folders = ["holidays/2023/italy", "holidays/2024/japan", "family/birthdays", "pets/cats", "pets/dogs", "cars", "food/breakfast"];
        var random = new Random(42);
        var probabilities = new float[Classes];
        for (var i = 0; i < count; i++)
        {
            var path = $"{folders[i % folders.Length]}/IMG_{20230101 + (i / 1000):D8}_{i % 1000:D4}.jpg";
            int? label = i % 2 == 0 ? random.Next(1000) : null;
            if (i % 50 == 49)
            {
                yield return PredictionRecord.Failure(path, label, "corrupt", "Not a JPEG file: starts with 0x89 0x50");
                continue;
            }

            var remaining = 1f;
            for (var k = 0; k < Classes; k++)
            {
                probabilities[k] = remaining * (0.4f + (0.5f * random.NextSingle()));
                remaining -= probabilities[k];
            }

            var top = new PredictedClass[Classes];
            for (var k = 0; k < Classes; k++)
            {
                var index = random.Next(1000);
                top[k] = new PredictedClass(index, names[index % names.Length], probabilities[k]);
            }

            yield return new PredictionRecord { Path = path, Label = label, Top = top };
        }
    }

    private static JobSummary Summary(int records) => new()
    {
        JobId = Guid.NewGuid(),
        Status = JobStatus.Completed,
        Model = new SummaryModel("efficientnet_b0", "b0", "standard", 224, "imagenet", [123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]),
        Weights = "untrained (random weights, seed 0)",
        Untrained = true,
        ExecutionProviders = ["CPUExecutionProvider"],
        Precisions = ["Float32"],
        Dataset = "/bench",
        Predictions = "/bench/predictions.jsonl",
        ImagesTotal = records,
        ImagesOk = records - (records / 50),
        ImagesFailed = records / 50,
        ErrorsByKind = new Dictionary<string, long> { ["corrupt"] = records / 50 },
        SkippedFiles = 0,
        Shards = 1,
        FailedShards = [],
        ShardsByWorker = new Dictionary<string, int>(),
        SubmittedAt = DateTimeOffset.UnixEpoch,
        CompletedAt = DateTimeOffset.UnixEpoch,
        WallSeconds = 0,
        ImagesPerSecond = 0,
        Top1Histogram = [],
    };

    private sealed record Result(double Seconds, long FileBytes, long PeakHeap, long PeakWorkingSet, IReadOnlyList<long> Live, long LiveAfterClose, long Allocated);

    /// <summary>Samples the managed heap and the working set every 5 ms on its own thread, keeping the highest.</summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stopping;
        private long _heap;
        private long _workingSet;

        public PeakSampler()
        {
            Sample();
            _thread = new Thread(() =>
            {
                while (!_stopping)
                {
                    Sample();
                    Thread.Sleep(5);
                }
            }) { IsBackground = true, Name = "peak sampler" };
            _thread.Start();
        }

        public (long Heap, long WorkingSet) Stop()
        {
            _stopping = true;
            _thread.Join();
            Sample();
            return (_heap, _workingSet);
        }

        public void Dispose()
        {
            _stopping = true;
            _thread.Join();
        }

        private void Sample()
        {
            _heap = Math.Max(_heap, GC.GetTotalMemory(forceFullCollection: false));
            _workingSet = Math.Max(_workingSet, Environment.WorkingSet);
        }
    }
}
