using System.Diagnostics;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>Runs the built <c>effnet</c> CLI as a separate process, as a user would.</summary>
internal static class Effnet
{
    /// <param name="environment">Changes to the child's environment (<see cref="ChildEnvironment"/>).</param>
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var cli = Path.Combine(Path.GetDirectoryName(TestPaths.HostAssembly("EfficientNet.Batch.Cli"))!, "effnet.dll");
        var info = new ProcessStartInfo("dotnet", [cli, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        ChildEnvironment.Apply(info, environment);

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
