using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>This clone's files, found by walking up from the test binaries to <c>EfficientNet.Batch.sln</c>.</summary>
internal static partial class Repository
{
    public const string ComposeFile = "docker-compose.yml";
    public const string ChartFolder = "helm/efficientnet-batch";
    public const string CoordinatorDockerfile = "deploy/coordinator.Dockerfile";
    public const string WorkerDockerfile = "deploy/worker.Dockerfile";

    private static readonly Lazy<string> RootFolder = new(FindRoot);

    public static string Root => RootFolder.Value;

    public static string PathOf(string relative) => Path.GetFullPath(Path.Combine(Root, relative));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>The chart's templates (<c>_helpers.tpl</c> and <c>NOTES.txt</c> included), by file name.</summary>
    public static IReadOnlyDictionary<string, string> ChartTemplates() =>
        Directory.EnumerateFiles(PathOf($"{ChartFolder}/templates"))
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllText, StringComparer.Ordinal);

    public static string ChartTemplate(string name) => Read($"{ChartFolder}/templates/{name}");

    /// <summary>The assembly a project builds: its AssemblyName, else the project file's name.</summary>
    public static string AssemblyNameOf(string csprojPath)
    {
        var assemblyName = XDocument.Load(csprojPath).Descendants("AssemblyName").Select(e => e.Value.Trim()).LastOrDefault();
        return string.IsNullOrEmpty(assemblyName) ? Path.GetFileNameWithoutExtension(csprojPath) : assemblyName;
    }

    /// <summary>A project and every project it references, directly or not, as paths relative to the root ('/').</summary>
    public static IReadOnlySet<string> ProjectClosure(string csprojRelative)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([PathOf(csprojRelative)]);
        while (pending.TryPop(out var project))
        {
            if (!found.Add(Relative(project)))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include)));
            }
        }

        return found;
    }

    public static string Relative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');

    /// <summary>Every <c>Section__Key</c>-shaped name in a text: ASP.NET's environment-variable form of a setting
    /// (the literal "Section__Key", which documents the form, aside).</summary>
    public static IEnumerable<string> SettingNamesIn(string text) =>
        SettingName().Matches(text).Select(m => m.Value).Where(n => n != "Section__Key").Distinct(StringComparer.Ordinal);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EfficientNet.Batch.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No EfficientNet.Batch.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9]*(?:__[A-Za-z0-9]+)+(?![A-Za-z0-9_])")]
    private static partial Regex SettingName();
}
