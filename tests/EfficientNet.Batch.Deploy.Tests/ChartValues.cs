using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The chart's values.yaml, parsed once.</summary>
internal static class ChartValues
{
    private static readonly Lazy<YamlMappingNode> Document = new(() => Yaml.Load($"{Repository.ChartFolder}/values.yaml"));

    public static YamlMappingNode Root => Document.Value;

    public static YamlMappingNode Coordinator => Root.Map("coordinator");

    public static YamlMappingNode Worker => Root.Map("worker");

    /// <summary><c>config</c>: settings both hosts get.</summary>
    public static IReadOnlyDictionary<string, string> SharedConfig => (Root.Find("config") as YamlMappingNode).Strings();

    public static IReadOnlyDictionary<string, string> CoordinatorConfig => (Coordinator.Find("config") as YamlMappingNode).Strings();

    public static IReadOnlyDictionary<string, string> WorkerConfig => (Worker.Find("config") as YamlMappingNode).Strings();

    public static int Integer(YamlMappingNode map, string key) =>
        int.Parse(map.Text(key) ?? throw new KeyNotFoundException(key), System.Globalization.CultureInfo.InvariantCulture);
}
