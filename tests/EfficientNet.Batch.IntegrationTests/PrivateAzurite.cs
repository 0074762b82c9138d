using System.Diagnostics;
using System.Net.Sockets;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// An Azurite blob service of one test's own (in memory, on a free port), for a test that freezes its storage: the
/// fixture's Azurite serves every test project at once and must never stop. <see cref="Freeze"/> and
/// <see cref="Thaw"/> send SIGSTOP and SIGCONT, so the service neither answers nor closes its connections, as storage
/// that hangs does. Needs <c>azurite-blob</c> on PATH (scripts/test.sh installs it); without it the test fails, naming it.
/// </summary>
internal sealed class PrivateAzurite : IAsyncDisposable
{
    private const string Executable = "azurite-blob";

    private readonly Process _process;
    private bool _frozen;

    private PrivateAzurite(Process process, int port)
    {
        _process = process;
        ConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={InfrastructureFixture.AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<PrivateAzurite> StartAsync(TimeSpan timeout)
    {
        var executable = FindOnPath(Executable) ?? throw new InvalidOperationException(
            $"This test freezes a private Azurite, but {Executable} is not on PATH; scripts/test.sh installs it (npm install -g azurite).");
        var port = HostProcess.FreePort();
        var info = new ProcessStartInfo(
            executable,
            ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // azurite-blob is a node script: with its #! line the kernel runs node in this very process, so the signals
        // below reach the server itself.
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{executable} did not start.");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new PrivateAzurite(process, port);
        var deadline = DateTime.UtcNow + timeout;
        while (!await AcceptsAsync(port))
        {
            if (process.HasExited || DateTime.UtcNow >= deadline)
            {
                await azurite.DisposeAsync();
                throw new InvalidOperationException($"{executable} on port {port} did not start within {timeout}: {string.Join(Environment.NewLine, output)}");
            }

            await Task.Delay(100);
        }

        return azurite;
    }

    /// <summary>Stops the service (SIGSTOP): requests to it hang until <see cref="Thaw"/>.</summary>
    public void Freeze()
    {
        Signal("STOP");
        _frozen = true;
    }

    /// <summary>Lets the service go on (SIGCONT).</summary>
    public void Thaw()
    {
        Signal("CONT");
        _frozen = false;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            if (_frozen)
            {
                Thaw();
            }

            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("kill did not start.");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} exited {kill.ExitCode}.");
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
