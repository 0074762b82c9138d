using System.Text;

namespace EfficientNet.Batch.StartupProfile;

/// <summary>The IL of a .mibc profile, in the layout crossgen2's parser reads (MIbcProfileParser in dotnet/runtime): a
/// global <c>AssemblyDictionary</c> method that names each group's assemblies (<c>ldstr</c>) and points at the group
/// (<c>ldtoken</c>), and a group method with one <c>ldtoken method …; pop</c> per profiled method. crossgen2 roots every
/// method of the profile, so it compiles the generic instantiations its own analysis cannot see.</summary>
public static class MibcSource
{
    public static string Write(IReadOnlyCollection<string> assemblies, IEnumerable<(string Name, string Operand)> methods)
    {
        var il = new StringBuilder();
        foreach (var assembly in assemblies)
        {
            il.AppendLine($".assembly extern {IlReferences.Quote(assembly)} {{ }}");
        }

        il.AppendLine(".assembly 'effnet-startup' { }");
        il.AppendLine(".module 'effnet-startup.mibc'");
        il.AppendLine(".method public static void AssemblyDictionary() cil managed");
        il.AppendLine("{");
        il.AppendLine($"  ldstr \"{string.Join(";", assemblies)};\"");
        il.AppendLine("  ldtoken method void Startup()");
        il.AppendLine("  pop");
        il.AppendLine("  ret");
        il.AppendLine("}");
        il.AppendLine(".method public static void Startup() cil managed");
        il.AppendLine("{");
        foreach (var (name, operand) in methods)
        {
            il.AppendLine($"  // {name.Replace("*/", "* /", StringComparison.Ordinal)}");
            il.AppendLine($"  ldtoken method {operand}");
            il.AppendLine("  pop");
        }

        il.AppendLine("  ret");
        il.AppendLine("}");
        return il.ToString();
    }
}
