using System.Diagnostics;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>Runs the built <c>effnet</c> CLI as a separate process, as a user would.</summary>
internal static class Effnet
{
    public static Task<(int ExitCode, string Out, string Error)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunAsync(
            variables =>
            {
                foreach (var (key, value) in environment)
                {
                    variables[key] = value;
                }
            },
            args);

    /// <param name="environment">Changes the child's environment (inherited from the test process), removals included.</param>
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(Action<IDictionary<string, string?>> environment, params string[] args)
    {
        var cli = Path.Combine(Path.GetDirectoryName(TestPaths.HostAssembly("EfficientNet.Batch.Cli"))!, "effnet.dll");
        var info = new ProcessStartInfo("dotnet", [cli, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        environment(info.Environment);

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
