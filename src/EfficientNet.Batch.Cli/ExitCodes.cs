using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Cli;

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int JobFailed = 1;
    public const int InvalidArguments = 2;
    public const int ModelUnavailable = 3;
    public const int CompletedWithErrors = 4;
    public const int ServerError = 5;
    public const int CheckpointRejected = 6;

    /// <summary>The job ended as Cancelled, or the command was interrupted (Ctrl+C): 128 + SIGINT, as shells report
    /// an interrupted program.</summary>
    public const int Cancelled = 130;

    /// <summary>The exit code for a job that ended with <paramref name="status"/> (<c>run</c>, <c>status --watch</c>).</summary>
    public static int ForJob(JobStatus status) => status switch
    {
        JobStatus.Completed => Ok,
        JobStatus.CompletedWithErrors => CompletedWithErrors,
        JobStatus.Failed => JobFailed,
        JobStatus.Cancelled => Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "The job has not ended."),
    };
}
