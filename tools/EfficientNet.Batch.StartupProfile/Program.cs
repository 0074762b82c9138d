using EfficientNet.Batch.StartupProfile;

// Usage: EfficientNet.Batch.StartupProfile --methods FILE --assemblies LIST --out PROFILE.mibc --ilasm ILASM
//   FILE: methods as the JIT's summary names them (DOTNET_JitStdOutFile with DOTNET_JitDisasmSummary=1), one a line;
//   LIST: the assemblies the methods live in, one path a line (the publish's, the framework's included).
// Writes PROFILE.il beside PROFILE.mibc and says how many methods it could point at.
var options = Arguments.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: --methods FILE --assemblies LIST --out PROFILE.mibc --ilasm ILASM");
    return 2;
}

var names = File.ReadLines(options.Methods)
    .Select(JitMethodName.FromSummaryLine)
    .OfType<JitMethodName>()
    .DistinctBy(m => m.ToString())
    .ToList();
using var index = new TypeIndex(File.ReadLines(options.Assemblies).Where(l => l.Length > 0));
var references = new IlReferences(index.Types);
var written = new List<(string, string)>();
foreach (var name in names)
{
    // A method the list's build had and this one has not (or one IL cannot name) stays with the JIT.
    if (references.MethodOperand(name) is { } operand)
    {
        written.Add((name.ToString(), operand));
    }
}

var il = Path.ChangeExtension(options.Output, ".il");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(il))!);
File.WriteAllText(il, MibcSource.Write(references.Assemblies, written));
if (IlAssembler.Assemble(options.IlAsm, il, options.Output) is { } failure)
{
    Console.Error.WriteLine($"error: {failure}");
    return 1;
}

Console.WriteLine($"Start-up profile: {written.Count} of {names.Count} methods written to {options.Output}");
return 0;

internal sealed record Arguments(string Methods, string Assemblies, string Output, string IlAsm)
{
    public static Arguments? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        return values.TryGetValue("--methods", out var methods)
            && values.TryGetValue("--assemblies", out var assemblies)
            && values.TryGetValue("--out", out var output)
            && values.TryGetValue("--ilasm", out var ilasm)
            ? new Arguments(methods, assemblies, output, ilasm)
            : null;
    }
}
