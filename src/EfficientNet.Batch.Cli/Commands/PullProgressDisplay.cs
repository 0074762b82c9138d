using System.Runtime.ExceptionServices;
using EfficientNet.Batch.Models.Download;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>Shows a checkpoint pull: one live progress row per URL tried on a terminal (bytes, speed, ETA; failed rows
/// stay visible with their reason), plain lines on stderr otherwise (logs, CI). Also for run/classify's first-use pull.</summary>
internal static class PullProgressDisplay
{
    public static async Task<T> RunAsync<T>(Func<IPullReporter, Task<T>> pull)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await pull(new PlainReporter(Console.Error));
        }

        // Spectre drops the live rows when the callback throws; hold the failure until the display has finished so the
        // rows of failed attempts (with their reasons) stay on screen above the error.
        ExceptionDispatchInfo? failure = null;
        var result = await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                try
                {
                    return await pull(new LiveReporter(context));
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                    return default;
                }
            });
        failure?.Throw();
        return result!;
    }

    private static string FileName(Uri url) => Path.GetFileName(url.AbsolutePath);

    /// <summary>Spectre's progress tasks are thread-safe; reports arrive from the download loop.</summary>
    private sealed class LiveReporter(ProgressContext context) : IPullReporter
    {
        private ProgressTask? _current;

        public void AttemptStarted(Uri url, int attempt, int attempts)
        {
            _current = context.AddTask(Markup.Escape($"[{attempt}/{attempts}] {FileName(url)}"), maxValue: 1);
            _current.IsIndeterminate = true;
        }

        public void Report(DownloadProgress value)
        {
            if (_current is not { } task)
            {
                return;
            }

            task.IsIndeterminate = value.TotalBytes is null;
            task.MaxValue = Math.Max(1, value.TotalBytes ?? value.BytesReceived);
            task.Value = value.BytesReceived;
        }

        public void Importing(Uri url) => Describe($"importing {FileName(url)}", "yellow");

        public void AttemptFailed(Uri url, string reason)
        {
            Describe($"{FileName(url)}: {reason}", "red");
            _current?.StopTask();
        }

        public void Succeeded(Uri url)
        {
            Describe($"{FileName(url)}: imported", "green");
            if (_current is { } task)
            {
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }

        private void Describe(string text, string colour)
        {
            if (_current is { } task)
            {
                task.Description = $"[{colour}]{Markup.Escape(text)}[/]";
            }
        }
    }

    /// <summary>A line per attempt and outcome, and one every 10% (or 64 MiB without a Content-Length).</summary>
    private sealed class PlainReporter(TextWriter output) : IPullReporter
    {
        private const long UnknownLengthStep = 64L << 20;
        private long _nextReport;

        public void AttemptStarted(Uri url, int attempt, int attempts)
        {
            _nextReport = 0;
            output.WriteLine($"download [{attempt}/{attempts}]: {url}");
        }

        public void Report(DownloadProgress value)
        {
            if (value.BytesReceived < _nextReport)
            {
                return;
            }

            if (value.TotalBytes is { } total and > 0)
            {
                output.WriteLine($"  {value.BytesReceived:N0} / {total:N0} bytes ({100.0 * value.BytesReceived / total:F0}%)");
                _nextReport = value.BytesReceived + Math.Max(1, total / 10);
            }
            else
            {
                output.WriteLine($"  {value.BytesReceived:N0} bytes");
                _nextReport = value.BytesReceived + UnknownLengthStep;
            }
        }

        public void Importing(Uri url) => output.WriteLine($"  verified; importing {FileName(url)}");

        public void AttemptFailed(Uri url, string reason) => output.WriteLine($"  failed: {reason}");

        public void Succeeded(Uri url) => output.WriteLine($"  imported {FileName(url)}");
    }
}
