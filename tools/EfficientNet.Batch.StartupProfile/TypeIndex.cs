using System.Reflection;

namespace EfficientNet.Batch.StartupProfile;

/// <summary>Every type of a set of assemblies, by full name, read through a <see cref="MetadataLoadContext"/>: nothing is
/// loaded to run, so the framework of a self-contained publish can be read beside the one this tool runs on.</summary>
public sealed class TypeIndex : IDisposable
{
    private readonly MetadataLoadContext _context;

    public TypeIndex(IEnumerable<string> assemblyPaths)
    {
        var paths = assemblyPaths
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && !p.EndsWith(".r2r.dll", StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        _context = new MetadataLoadContext(new PathAssemblyResolver(paths), "System.Private.CoreLib");
        var types = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            foreach (var type in TypesOf(path))
            {
                if (type.FullName is { } name)
                {
                    types.TryAdd(name, type);
                }
            }
        }

        Types = types;
    }

    public IReadOnlyDictionary<string, Type> Types { get; }

    private IEnumerable<Type> TypesOf(string path)
    {
        Assembly assembly;
        try
        {
            assembly = _context.LoadFromAssemblyPath(path);
        }
        catch (BadImageFormatException)
        {
            return []; // a native library or a facade without metadata
        }
        catch (FileLoadException)
        {
            return []; // a second copy of an assembly already read
        }

        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException partial)
        {
            return partial.Types.OfType<Type>();
        }
    }

    public void Dispose() => _context.Dispose();
}
