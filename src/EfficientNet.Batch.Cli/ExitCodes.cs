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
}
