using System.Diagnostics;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>Images done, images/s and ETA of <c>run</c>'s job as this process's worker counts them: per batch, finer
/// than the coordinator's count of committed shards.</summary>
internal sealed class LocalProgress
{
    private readonly ClassificationProgress _progress;
    private readonly long _baseline;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private LocalProgress(ClassificationProgress progress)
    {
        _progress = progress;
        _baseline = progress.Images;
    }

    /// <summary>How often <c>run</c> looks at its job: in process, so often enough for a smooth bar (a status read is one
    /// small file). The job's end is read as soon as it is published (<see cref="JobEndSignal"/>), not at the next tick.</summary>
    public static TimeSpan Tick { get; } = TimeSpan.FromMilliseconds(100);

    public static LocalProgress Start(IServiceProvider services) => new(services.GetRequiredService<ClassificationProgress>());

    public ProgressReading Read(JobView job)
    {
        var done = _progress.Images - _baseline;
        var seconds = _clock.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? done / seconds : 0;
        double? eta = job.Status == JobStatus.Running && rate > 0 && job.Images > done ? (job.Images - done) / rate : null;
        return new ProgressReading(job, done, rate, eta);
    }
}
