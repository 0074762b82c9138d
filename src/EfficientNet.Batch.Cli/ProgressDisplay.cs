using System.Diagnostics;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Workers;
using Spectre.Console;

namespace EfficientNet.Batch.Cli;

/// <summary>Shows images done, images/s and ETA until the job ends: a live bar on a terminal, a line every few
/// seconds otherwise (logs, CI).</summary>
internal static class ProgressDisplay
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    public static async Task<JobStatusView> WaitAsync(JobCoordinator coordinator, ClassificationProgress progress, Guid jobId, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var baseline = progress.Images;
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            JobStatusView? final = null;
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("classifying", maxValue: 1);
                    while (true)
                    {
                        var view = await coordinator.GetStatusAsync(jobId, cancellationToken) ?? throw new InvalidOperationException($"Job {jobId} vanished.");
                        var done = progress.Images - baseline;
                        task.MaxValue = Math.Max(1, view.Images);
                        task.Value = Math.Min(done, task.MaxValue);
                        task.Description = $"{done}/{view.Images} images, {Rate(done, started.Elapsed):F1} images/s";
                        if (view.Status.IsTerminal())
                        {
                            task.Value = task.MaxValue;
                            final = view;
                            return;
                        }

                        await Task.Delay(Tick, cancellationToken);
                    }
                });
            return final!;
        }

        var lastPrint = TimeSpan.Zero;
        while (true)
        {
            var view = await coordinator.GetStatusAsync(jobId, cancellationToken) ?? throw new InvalidOperationException($"Job {jobId} vanished.");
            if (view.Status.IsTerminal())
            {
                return view;
            }

            if (started.Elapsed - lastPrint >= PlainInterval)
            {
                lastPrint = started.Elapsed;
                var done = progress.Images - baseline;
                var rate = Rate(done, started.Elapsed);
                var eta = rate > 0 && view.Images > done ? TimeSpan.FromSeconds((view.Images - done) / rate) : TimeSpan.Zero;
                Console.Error.WriteLine($"progress: {done}/{view.Images} images, {rate:F1} images/s, ETA {eta:hh\\:mm\\:ss}");
            }

            await Task.Delay(Tick, cancellationToken);
        }
    }

    private static double Rate(long images, TimeSpan elapsed) => elapsed.TotalSeconds > 0 ? images / elapsed.TotalSeconds : 0;
}
