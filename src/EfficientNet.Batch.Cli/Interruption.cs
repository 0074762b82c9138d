using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM for the whole CLI. The first one cancels <see cref="Token"/>, the token every command
/// receives: most commands stop where they are, and <c>run</c> cancels its job and waits until the job is closed. A
/// second one is left to the default action, which ends the process at once.
/// </summary>
/// <remarks>It replaces System.CommandLine's own handling, which ends the invocation a fixed time after the first
/// signal: too soon for <c>run</c> to see its job closed.</remarks>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _signals;

    public Interruption()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _requested.Token;

    public bool IsRequested => _requested.IsCancellationRequested;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _requested.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
        {
            return;
        }

        context.Cancel = true;
        _requested.Cancel();
    }
}
