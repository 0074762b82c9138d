using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>docker-compose.yml, parsed once.</summary>
internal static class Compose
{
    public const string Coordinator = "coordinator";
    public const string Worker = "worker";
    public const string GpuWorker = "worker-gpu";
    public const string SecondGpuWorker = "worker-gpu-1";

    private static readonly Lazy<YamlMappingNode> Document = new(() => Yaml.Load(Repository.ComposeFile));

    public static YamlMappingNode Root => Document.Value;

    public static YamlMappingNode Services => Root.Map("services");

    public static YamlMappingNode Service(string name) => Services.Map(name);

    /// <summary>The services built from this repository's Dockerfiles: the hosts.</summary>
    public static IReadOnlyList<string> HostServices =>
        [.. Services.Children.Where(p => ((YamlMappingNode)p.Value).Find("build") is not null).Select(p => ((YamlScalarNode)p.Key).Value!)];

    /// <summary>A service's environment, from the mapping form or the list form (<c>KEY=VALUE</c>).</summary>
    public static IReadOnlyDictionary<string, string> Environment(string service) => Service(service).Find("environment") switch
    {
        YamlMappingNode map => map.Strings(),
        YamlSequenceNode list => list.Children
            .Select(c => ((YamlScalarNode)c).Value!.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal),
        _ => new Dictionary<string, string>(StringComparer.Ordinal),
    };
}
