using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Cli;

/// <summary>The lifetime of a host embedded in a command: started and stopped by the command, never by a signal.
/// The default console lifetime would stop the host on the first Ctrl+C and swallow the second one; here
/// <see cref="Interruption"/> alone decides what Ctrl+C does.</summary>
internal sealed class CommandLineHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
