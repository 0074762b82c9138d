using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EfficientNet.Batch.Components.Tests.Outputs;

/// <summary>
/// Reads a Parquet file with hyparquet (<c>tests/tools/parquet-reader</c>, run by Node.js), a reader that shares no
/// code with Parquet.Net, so a file both read alike is Parquet and not just what Parquet.Net expects. The package is
/// installed from its lock file (<c>npm ci</c>) once per test run. No Node.js, or a failed install, fails the test
/// that asked: skipping would hide that the file was never checked.
/// </summary>
internal static class HyparquetReader
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static bool _installed;

    /// <summary>Every row of <paramref name="parquetPath"/>, as JSON objects in file order.</summary>
    public static async Task<IReadOnlyList<JsonElement>> ReadRowsAsync(string parquetPath)
    {
        var output = await RunAsync([parquetPath]);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];
    }

    /// <summary>The file's row count, row group sizes and schema elements, as hyparquet reads them from the footer.</summary>
    public static async Task<JsonElement> ReadSchemaAsync(string parquetPath) =>
        JsonDocument.Parse(await RunAsync(["--schema", parquetPath])).RootElement;

    private static string ToolFolder { get; } = FindToolFolder();

    private static async Task<string> RunAsync(IReadOnlyList<string> arguments)
    {
        await InstallOnceAsync();
        var (exitCode, stdout, stderr) = await ExecuteAsync("node", [Path.Combine(ToolFolder, "read.mjs"), .. arguments], ToolFolder);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"hyparquet could not read {arguments[^1]} (node read.mjs exited with {exitCode}):\n{stderr}");
        }

        return stdout;
    }

    private static async Task InstallOnceAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (_installed)
            {
                return;
            }

            // Another test process (another project's run) may install at the same time: one at a time, per clone.
            var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ToolFolder)))[..16];
            var lockPath = Path.Combine(Path.GetTempPath(), $"effnet-parquet-reader-{key}.lock");
            await using var fileLock = await AcquireAsync(lockPath);
            if (!IsInstalled())
            {
                var (exitCode, stdout, stderr) = await ExecuteAsync("npm", ["ci", "--no-audit", "--no-fund"], ToolFolder);
                if (exitCode != 0 || !IsInstalled())
                {
                    throw new InvalidOperationException(
                        $"'npm ci' in {ToolFolder} failed (exit {exitCode}); the independent Parquet check needs the hyparquet package " +
                        $"from the npm registry.\n{stdout}\n{stderr}");
                }
            }

            _installed = true;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Whether node_modules holds the hyparquet version that package-lock.json pins.</summary>
    private static bool IsInstalled()
    {
        var installed = Path.Combine(ToolFolder, "node_modules", "hyparquet", "package.json");
        if (!File.Exists(installed))
        {
            return false;
        }

        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(ToolFolder, "package-lock.json")));
        using var package = JsonDocument.Parse(File.ReadAllText(installed));
        var pinned = lockFile.RootElement.GetProperty("packages").GetProperty("node_modules/hyparquet").GetProperty("version").GetString();
        return pinned == package.RootElement.GetProperty("version").GetString();
    }

    private static async Task<FileStream> AcquireAsync(string lockPath)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> ExecuteAsync(string program, IReadOnlyList<string> arguments, string folder)
    {
        var info = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = folder,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"'{program}' could not be started ({e.Message}). The Parquet output test reads the file with hyparquet, which needs " +
                "Node.js 20 or later and npm on the PATH.", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} {string.Join(' ', arguments)} ran longer than {Timeout}.");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }

    private static string FindToolFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EfficientNet.Batch.sln")))
            {
                return Path.Combine(directory.FullName, "tests", "tools", "parquet-reader");
            }
        }

        throw new DirectoryNotFoundException($"No EfficientNet.Batch.sln above {AppContext.BaseDirectory}: cannot find tests/tools/parquet-reader.");
    }
}
