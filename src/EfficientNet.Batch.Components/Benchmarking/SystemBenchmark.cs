using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Benchmarking;

/// <param name="Images">Lines of the generated manifest.</param>
/// <param name="Workers">Simulated devices (one shard each at a time).</param>
/// <param name="DeviceMilliseconds">Simulated device time per image.</param>
/// <param name="StatusInterval">How often the job's status is asked for while it runs.</param>
/// <param name="Transport">The bus the job runs on (<c>inmemory</c> or <c>rabbitmq</c>), as the report names it.</param>
public sealed record SystemBenchmarkSettings(int Images, int Workers, double DeviceMilliseconds, int ShardSize, TimeSpan StatusInterval, string Transport);

/// <summary>
/// <c>effnet bench system</c>: one job over a generated manifest of <see cref="SystemBenchmarkSettings.Images"/> paths,
/// through the real coordinator (submission, listing, planning, dispatch, outcome recording, status, merge) with the
/// workers' model replaced by <see cref="SimulatedShardClassifier"/>. The phases are read from the job's own record
/// (submitted → planned → dispatched) and its merge span; status is asked for on a timer while the job runs, as a
/// dashboard would, and each call is timed.
/// </summary>
public sealed class SystemBenchmark(JobSubmission submission, JobQueries queries, JobStateStore state)
{
    /// <summary>The model named in the job: random weights of a zoo model need no file, and the simulated device loads none.</summary>
    public const string Model = "efficientnet_b0";

    /// <summary>Writes a manifest of <paramref name="images"/> distinct paths with labels (the files need not exist).</summary>
    public static async Task WriteManifestAsync(string path, int images, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), bufferSize: 1 << 20);
        await writer.WriteLineAsync("path,label");
        var line = new StringBuilder(48);
        for (var i = 0; i < images; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"images/{i / 10_000:D4}/{i:D9}.jpg,{i % 1000}");
            await writer.WriteLineAsync(line, cancellationToken);
        }
    }

    public async Task<SystemBenchmarkReport> RunAsync(SystemBenchmarkSettings settings, string manifest, string output, CancellationToken cancellationToken)
    {
        var merges = new MergeSpans();
        using var listener = merges.Listen();
        var spec = new JobSpec
        {
            Dataset = manifest,
            Model = Model,
            Output = output,
            ShardSize = settings.ShardSize,
            RandomWeights = true,
            Incremental = false,
        };

        var started = Stopwatch.GetTimestamp();
        var record = await submission.SubmitAsync(Guid.NewGuid(), spec, overwrite: false, cancellationToken);
        var statusTimes = new List<double>();
        var peakRss = ProcessMemory.CurrentRss();
        var phasePeaks = new Dictionary<string, long>(StringComparer.Ordinal);
        long? allShardsDone = null;
        JobView view;
        while (true)
        {
            var call = Stopwatch.GetTimestamp();
            view = await queries.GetAsync(record.JobId, cancellationToken) ?? throw new InvalidOperationException($"Job {record.JobId} vanished.");
            statusTimes.Add(Stopwatch.GetElapsedTime(call).TotalMilliseconds);
            var rss = ProcessMemory.CurrentRss();
            peakRss = Math.Max(peakRss, rss);
            var phase = Phase(view);
            phasePeaks[phase] = Math.Max(phasePeaks.GetValueOrDefault(phase), rss);
            allShardsDone ??= phase == "merge" ? call : null;
            if (view.Status.IsTerminal())
            {
                break;
            }

            await Task.Delay(settings.StatusInterval, cancellationToken);
        }

        var wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        double? finish = allShardsDone is { } done ? Stopwatch.GetElapsedTime(done).TotalSeconds : null;
        var final = await state.GetAsync(record.JobId, cancellationToken) ?? throw new InvalidOperationException($"Job {record.JobId} vanished.");
        if (final.Status != JobStatus.Completed)
        {
            throw new InvalidOperationException($"The benchmark's job ended {final.Status}: {final.Error}");
        }

        // The record says Completed a moment before the merge span ends (the span also covers the cleanup after it).
        var merge = await merges.WaitAsync(record.JobId, TimeSpan.FromSeconds(60), cancellationToken);
        var read = Stopwatch.GetTimestamp();
        _ = await state.ReadShardOutcomeTotalsAsync(final, cancellationToken);
        var outcomesRead = Stopwatch.GetElapsedTime(read).TotalMilliseconds;
        var planned = final.PlannedAt!.Value;
        var classifying = (merge.Started - planned).TotalSeconds;
        statusTimes.Sort();
        return new SystemBenchmarkReport
        {
            Images = settings.Images,
            Shards = final.ShardCount,
            ShardSize = settings.ShardSize,
            Workers = settings.Workers,
            DeviceMilliseconds = settings.DeviceMilliseconds,
            Transport = settings.Transport,
            Storage = "file system",
            Cores = Environment.ProcessorCount,
            PlanSeconds = Round((planned - final.SubmittedAt).TotalSeconds),
            DispatchSeconds = Round((final.DispatchedAt!.Value - planned).TotalSeconds),
            MergeSeconds = Round(merge.Duration.TotalSeconds),
            FinishSeconds = finish is { } f ? Round(f) : null,
            OutcomesReadMs = Round(outcomesRead),
            TotalSeconds = Round(wall),
            CoordinatorPeakRssMiB = Round(Math.Max(peakRss, ProcessMemory.PeakRss()) / 1048576.0),
            StatusCalls = statusTimes.Count,
            StatusP50Ms = Round(Percentile(statusTimes, 0.5)),
            StatusP90Ms = Round(Percentile(statusTimes, 0.9)),
            StatusMaxMs = Round(statusTimes[^1]),
            ImagesPerSecond = Round(settings.Images / classifying),
            DeviceLimitImagesPerSecond = settings.DeviceMilliseconds > 0 ? Round(settings.Workers * 1000 / settings.DeviceMilliseconds) : null,
            Lines = final.Totals?.ImagesOk + final.Totals?.ImagesFailed ?? 0,
            PeakRssByPhaseMiB = phasePeaks.ToDictionary(p => p.Key, p => Round(p.Value / 1048576.0), StringComparer.Ordinal),
        };
    }

    // Which step the job is in, as its status shows it: listing and planning, sending, classifying, merging.
    private static string Phase(JobView view) => view switch
    {
        { Status: JobStatus.Submitted } => "plan",
        { Status: JobStatus.Running, DispatchedAt: null } => "dispatch",
        { Status: JobStatus.Running } when view.ShardsDone < view.Shards => "classify",
        { Status: JobStatus.Running } => "merge",
        _ => "done",
    };

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static double Round(double value) => Math.Round(value, 3);

    /// <summary>The coordinator's merge spans (<see cref="JobTracing.Spans.Merge"/>), by job.</summary>
    private sealed class MergeSpans
    {
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<(DateTimeOffset Started, TimeSpan Duration)>> _spans = new();

        public ActivityListener Listen()
        {
            var listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == TelemetryNames.ActivitySource,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (activity.OperationName == JobTracing.Spans.Merge
                        && Guid.TryParse(activity.GetTagItem(JobTracing.Tags.JobId) as string, out var jobId))
                    {
                        Span(jobId).TrySetResult((new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero), activity.Duration));
                    }
                },
            };
            ActivitySource.AddActivityListener(listener);
            return listener;
        }

        public async Task<(DateTimeOffset Started, TimeSpan Duration)> WaitAsync(Guid jobId, TimeSpan timeout, CancellationToken cancellationToken)
        {
            try
            {
                return await Span(jobId).Task.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"No merge span of job {jobId} ended within {timeout.TotalSeconds} s of its completion.");
            }
        }

        private TaskCompletionSource<(DateTimeOffset Started, TimeSpan Duration)> Span(Guid jobId) =>
            _spans.GetOrAdd(jobId, _ => new TaskCompletionSource<(DateTimeOffset, TimeSpan)>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
