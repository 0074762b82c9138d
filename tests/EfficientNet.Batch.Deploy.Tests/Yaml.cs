using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>Reading docker-compose.yml and values.yaml through YamlDotNet's representation model.</summary>
internal static class Yaml
{
    /// <summary>The file's single document; YAML merge keys (<c>&lt;&lt;: *anchor</c>, which compose uses) are resolved.</summary>
    public static YamlMappingNode Load(string relativePath)
    {
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(new StringReader(Repository.Read(relativePath)))));
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    public static YamlNode? Find(this YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public static YamlMappingNode Map(this YamlMappingNode map, string key) =>
        map.Find(key) as YamlMappingNode ?? throw new KeyNotFoundException($"No mapping '{key}' at {map.Start}.");

    public static string? Text(this YamlMappingNode map, string key) => (map.Find(key) as YamlScalarNode)?.Value;

    /// <summary>A mapping of scalars (an environment, a ConfigMap's data) as strings; an empty mapping gives none.</summary>
    public static IReadOnlyDictionary<string, string> Strings(this YamlMappingNode? map) =>
        map is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value ?? "", StringComparer.Ordinal);

    /// <summary>A scalar or a sequence of scalars as one string: compose's <c>command</c> and <c>test</c> take either.</summary>
    public static string Joined(this YamlNode? node) => node switch
    {
        YamlScalarNode scalar => scalar.Value ?? "",
        YamlSequenceNode sequence => string.Join(' ', sequence.Children.Select(c => ((YamlScalarNode)c).Value)),
        _ => "",
    };
}
