using System.Diagnostics;
using System.Globalization;
using EfficientNet.Batch.Contracts.Api;
using Spectre.Console;

namespace EfficientNet.Batch.Cli;

/// <summary>One look at a job for <see cref="ProgressDisplay"/>: the job, and its images done, images/s and ETA as
/// the watcher measures them.</summary>
internal sealed record ProgressReading(JobView Job, long ImagesDone, double ImagesPerSecond, double? EtaSeconds)
{
    /// <summary>As the coordinator reports them (images of committed shards).</summary>
    public static ProgressReading Of(JobView job) => new(job, job.Progress.ImagesDone, job.Progress.ImagesPerSecond, job.Progress.EtaSeconds);
}

/// <summary>Shows a job's images done, images/s, ETA and shards until the job ends: a live bar on a terminal, a line
/// every few seconds otherwise (logs, CI).</summary>
internal static class ProgressDisplay
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    private static bool IsLive => AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Reads the job every <paramref name="tick"/> until it has ended, and returns it as it ended. When
    /// <paramref name="ended"/> completes (the job's end announced in this process), the job is read at once instead of
    /// at the next tick.</summary>
    public static async Task<JobView> WaitAsync(
        Func<Task<ProgressReading>> read, TimeSpan tick, CancellationToken cancellationToken, Task? ended = null)
    {
        var next = new NextLook(tick, ended);
        return IsLive ? await WaitLiveAsync(read, next, cancellationToken) : await WaitPlainAsync(read, next, cancellationToken);
    }

    private static async Task<JobView> WaitLiveAsync(Func<Task<ProgressReading>> read, NextLook next, CancellationToken cancellationToken)
    {
        JobView? final = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var images = context.AddTask("images", maxValue: 1);
                var shards = context.AddTask("shards", maxValue: 1);
                while (true)
                {
                    var reading = await read();
                    var job = reading.Job;
                    var ended = job.Status is JobStatus.Completed or JobStatus.CompletedWithErrors;
                    images.MaxValue = Math.Max(1, job.Images);
                    images.Value = ended ? images.MaxValue : Math.Min(reading.ImagesDone, images.MaxValue);
                    images.Description = Markup.Escape(DescribeImages(reading));
                    shards.MaxValue = Math.Max(1, job.Shards);
                    shards.Value = ended ? shards.MaxValue : Math.Min(job.ShardsDone, shards.MaxValue);
                    shards.Description = Markup.Escape(DescribeShards(job.Progress));
                    if (job.Status.IsTerminal())
                    {
                        final = job;
                        return;
                    }

                    await next.WaitAsync(cancellationToken);
                }
            });
        return final!;
    }

    /// <summary>How a job ended, in one line.</summary>
    public static string Outcome(JobView job)
    {
        var line = $"Job {job.JobId} {job.Status}: {job.ImagesOk} images classified, {job.ImagesFailed} errors";
        line += job.ImagesNotClassified > 0 ? $", {job.ImagesNotClassified} not classified." : ".";
        return job.Error is { Length: > 0 } error ? $"{line} {error}" : line;
    }

    /// <summary>A line to be seen while the display runs: above the live bar, else on stderr.</summary>
    public static void Note(string text)
    {
        if (IsLive)
        {
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.Error.WriteLine(text);
        }
    }

    private static async Task<JobView> WaitPlainAsync(Func<Task<ProgressReading>> read, NextLook next, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan? lastPrint = null;
        while (true)
        {
            var reading = await read();
            if (reading.Job.Status.IsTerminal())
            {
                return reading.Job;
            }

            if (lastPrint is null || clock.Elapsed - lastPrint >= PlainInterval)
            {
                lastPrint = clock.Elapsed;
                Console.Error.WriteLine($"progress: {Describe(reading)}");
            }

            await next.WaitAsync(cancellationToken);
        }
    }

    private static string Describe(ProgressReading reading) => $"{DescribeImages(reading)}, {DescribeShards(reading.Job.Progress)}";

    private static string DescribeImages(ProgressReading reading) =>
        $"{reading.Job.Status}: {reading.ImagesDone}/{reading.Job.Images} images, {reading.ImagesPerSecond:F1} images/s, ETA {Eta(reading.EtaSeconds)}";

    private static string DescribeShards(JobProgress shards) =>
        $"shards {shards.ShardsQueued} queued / {shards.ShardsRunning} running / {shards.ShardsDone} done / {shards.ShardsFailed} failed";

    private static string Eta(double? seconds)
    {
        if (seconds is not { } value || double.IsNaN(value) || value < 0)
        {
            return "--:--:--";
        }

        var whole = (long)Math.Min(Math.Round(value), 359_999);
        return string.Create(CultureInfo.InvariantCulture, $"{whole / 3600:D2}:{whole / 60 % 60:D2}:{whole % 60:D2}");
    }

    /// <summary>The wait between two looks at a job: one tick, cut short once by the job's end being announced.</summary>
    private sealed class NextLook(TimeSpan tick, Task? ended)
    {
        private Task? _ended = ended;

        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            if (_ended is null)
            {
                await Task.Delay(tick, cancellationToken);
                return;
            }

            // Once it has fired the next look comes at once; if that look does not show the end yet (it was announced
            // before its state could be read), the looks go back to the tick.
            var ended = _ended;
            if (!ended.IsCompleted)
            {
                await Task.WhenAny(Task.Delay(tick, cancellationToken), ended);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (ended.IsCompleted)
            {
                _ended = null;
            }
        }
    }
}
