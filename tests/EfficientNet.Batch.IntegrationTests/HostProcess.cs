using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>A host (worker or coordinator) running as a separate OS process, with its output kept for diagnostics.</summary>
internal sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly int _keptLines;

    private HostProcess(Process process, int port, int keptLines)
    {
        _process = process;
        Port = port;
        _keptLines = keptLines;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public string Output => string.Join(Environment.NewLine, _output);

    public bool HasExited => _process.HasExited;

    /// <param name="keepAllOutput">Keep every output line (a test that inspects all of it), not only the last 400.</param>
    /// <param name="environment">Changes to the child's environment (<see cref="ChildEnvironment"/>).</param>
    public static HostProcess Start(string project, IReadOnlyDictionary<string, string> environment, bool keepAllOutput = false)
    {
        var assembly = TestPaths.HostAssembly(project);
        if (!File.Exists(assembly))
        {
            throw new FileNotFoundException($"{assembly} is not built; build the solution first.", assembly);
        }

        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", [assembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        ChildEnvironment.Apply(info, environment);

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var host = new HostProcess(process, port, keepAllOutput ? int.MaxValue : 400);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until <c>/readyz</c> answers 200 (the bus is connected).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Host exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await client.GetAsync("readyz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow start.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Host on port {Port} not ready after {timeout}:{Environment.NewLine}{Output}");
    }

    /// <summary>Kills the host and its child processes at once (SIGKILL, like <c>kill -9</c>): no shutdown hook runs,
    /// so whatever it was doing is left half done. Returns once its output has been read to the end.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > _keptLines && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>A loopback port free right now (for a host, or a test's own listener).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
