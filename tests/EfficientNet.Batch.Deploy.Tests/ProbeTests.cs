using System.Text.RegularExpressions;
using EfficientNet.Batch.ServiceDefaults;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>Probes and healthchecks ask the paths the hosts map, on the port the images listen on.</summary>
public sealed partial class ProbeTests
{
    [Theory]
    [InlineData("coordinator-deployment.yaml")]
    [InlineData("worker-deployment.yaml")]
    public void Chart_probes_ask_the_paths_the_hosts_map(string deployment)
    {
        var probes = Probe().Matches(Repository.ChartTemplate(deployment))
            .ToDictionary(m => m.Groups["probe"].Value, m => m.Groups["path"].Value, StringComparer.Ordinal);

        Assert.Equal(ServiceDefaultsExtensions.LivenessPath, probes["livenessProbe"]);
        Assert.Equal(ServiceDefaultsExtensions.ReadinessPath, probes["readinessProbe"]);
        // Kestrel listens only once start-up (a worker's model preloading) is over: the live path then answers.
        Assert.Equal(ServiceDefaultsExtensions.LivenessPath, probes["startupProbe"]);
        Assert.Equal(3, probes.Count);
    }

    [Fact]
    public void Compose_healthchecks_ask_the_readiness_path_on_the_port_the_images_listen_on()
    {
        var port = ListeningPort(Repository.CoordinatorDockerfile);

        foreach (var host in Compose.HostServices)
        {
            var test = Compose.Service(host).Map("healthcheck").Find("test").Joined();
            Assert.Contains($"/dev/tcp/127.0.0.1/{port} ", test, StringComparison.Ordinal);
            Assert.Contains($"GET {ServiceDefaultsExtensions.ReadinessPath} ", test, StringComparison.Ordinal);
            Assert.Contains(" 200", test, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Images_listen_where_compose_and_the_chart_expect()
    {
        var port = ListeningPort(Repository.CoordinatorDockerfile);
        Assert.Equal(port, ListeningPort(Repository.WorkerDockerfile));

        var published = ((YamlSequenceNode)Compose.Service(Compose.Coordinator).Find("ports")!).Children.Select(c => ((YamlScalarNode)c).Value!);
        Assert.Contains(published, p => p.EndsWith($":{port}", StringComparison.Ordinal));
        foreach (var deployment in new[] { "coordinator-deployment.yaml", "worker-deployment.yaml" })
        {
            Assert.Equal([port], ContainerPort().Matches(Repository.ChartTemplate(deployment)).Select(m => m.Groups["port"].Value));
        }
    }

    /// <summary>The port every runtime stage of a Dockerfile sets in ASPNETCORE_URLS and exposes.</summary>
    private static string ListeningPort(string dockerfile)
    {
        var instructions = Dockerfile.Parse(dockerfile);
        var urls = instructions.Where(i => i.Keyword == "ENV").Select(i => AspNetCoreUrlsPort().Match(i.Arguments)).Where(m => m.Success).Select(m => m.Groups["port"].Value).ToList();
        var exposed = instructions.Where(i => i.Keyword == "EXPOSE").Select(i => i.Arguments).ToList();
        var runtimeStages = instructions.Where(i => i.Keyword == "ENTRYPOINT").Select(i => i.Stage).ToList();

        var port = Assert.Single(urls.Distinct());
        Assert.Equal(runtimeStages.Count, urls.Count);
        Assert.Equal(Enumerable.Repeat(port, runtimeStages.Count), exposed);
        return port;
    }

    [GeneratedRegex(@"(?<probe>startupProbe|livenessProbe|readinessProbe):\s*\n\s*httpGet:\s*\n\s*path:\s*(?<path>\S+)")]
    private static partial Regex Probe();

    [GeneratedRegex(@"ASPNETCORE_URLS=http://\+:(?<port>\d+)")]
    private static partial Regex AspNetCoreUrlsPort();

    [GeneratedRegex(@"containerPort:\s*(?<port>\d+)")]
    private static partial Regex ContainerPort();
}
