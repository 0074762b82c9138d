using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>
/// tests/tools/k8s-validate (Node.js): Kubernetes objects against the API's schemas (kubernetes-models), KEDA's and the
/// Prometheus operator's; compose files against the Compose specification's JSON schema. Its packages are installed from
/// the lock file (<c>npm ci</c>) on first use. No Node.js, or a failed install, fails the test that asked: skipping would
/// hide that nothing was checked.
/// </summary>
internal static class SchemaValidator
{
    private static readonly Lazy<string> Folder = new(Install);

    /// <summary>One line per problem, each naming the document (its index, kind and name); empty when all are valid.</summary>
    public static IReadOnlyList<string> KubernetesProblems(IEnumerable<JsonNode?> objects) => Run([], objects);

    public static IReadOnlyList<string> ComposeProblems(JsonNode compose) => Run(["--compose"], [compose]);

    private static List<string> Run(string[] arguments, IEnumerable<JsonNode?> documents)
    {
        var input = new StringBuilder();
        foreach (var document in documents)
        {
            input.Append(document?.ToJsonString() ?? "null").Append('\n');
        }

        var (exitCode, stdout, stderr) = Execute("node", ["validate.mjs", .. arguments], Folder.Value, input.ToString());
        Assert.True(exitCode is 0 or 1, $"node validate.mjs exited with {exitCode}:\n{stdout}\n{stderr}");
        var problems = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        Assert.True((exitCode == 0) == (problems.Count == 0), $"exit {exitCode} with output:\n{stdout}\n{stderr}");
        return problems;
    }

    private static string Install()
    {
        var folder = Repository.PathOf("tests/tools/k8s-validate");
        if (!IsInstalled(folder))
        {
            var (exitCode, stdout, stderr) = Execute("npm", ["ci", "--no-audit", "--no-fund"], folder, null);
            Assert.True(exitCode == 0 && IsInstalled(folder), $"'npm ci' in {folder} failed (exit {exitCode}):\n{stdout}\n{stderr}");
        }

        return folder;
    }

    /// <summary>Whether node_modules holds every package version package-lock.json pins at the top level.</summary>
    private static bool IsInstalled(string folder)
    {
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "package-lock.json")));
        foreach (var package in lockFile.RootElement.GetProperty("packages").EnumerateObject().Where(p => p.Name.StartsWith("node_modules/", StringComparison.Ordinal)))
        {
            var installed = Path.Combine(folder, package.Name, "package.json");
            if (!File.Exists(installed))
            {
                return false;
            }

            using var manifest = JsonDocument.Parse(File.ReadAllText(installed));
            if (manifest.RootElement.GetProperty("version").GetString() != package.Value.GetProperty("version").GetString())
            {
                return false;
            }
        }

        return true;
    }

    private static (int ExitCode, string Stdout, string Stderr) Execute(string program, string[] arguments, string folder, string? input)
    {
        var info = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} ran longer than 5 minutes.");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
