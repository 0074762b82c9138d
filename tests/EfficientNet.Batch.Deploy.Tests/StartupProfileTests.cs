using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.StartupProfile;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The CLI's start-up profile for crossgen2 (tools/EfficientNet.Batch.StartupProfile,
/// src/EfficientNet.Batch.Cli/startup-methods.txt): the JIT's method names turned into IL references, and the list kept
/// in step with the code.</summary>
public sealed class StartupProfileTests
{
    private const string MethodList = "src/EfficientNet.Batch.Cli/startup-methods.txt";

    private static readonly Lazy<TypeIndex> CliAndFramework = new(() => new TypeIndex(CliAssemblies()));

    [Fact]
    public void A_summary_line_of_the_JIT_parses_into_type_method_arguments_and_parameters()
    {
        var method = JitMethodName.FromSummaryLine(
            "  42: JIT compiled System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1[System.__Canon]:AwaitUnsafeOnCompleted" +
            "[System.Runtime.CompilerServices.TaskAwaiter`1[System.ValueTuple`2[int,System.__Canon]],Foo+<RunAsync>d__3]" +
            "(byref,System.Runtime.CompilerServices.IAsyncStateMachineBox) [FullOpts, IL size=238, code size=122]");

        Assert.NotNull(method);
        Assert.Equal("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1", method.DeclaringType.Name);
        Assert.Equal("System.__Canon", Assert.Single(method.DeclaringType.Arguments).Name);
        Assert.Equal("AwaitUnsafeOnCompleted", method.Name);
        Assert.Equal(2, method.MethodArguments.Count);
        Assert.Equal("TaskAwaiter`1[System.ValueTuple`2[int,System.__Canon]]", method.MethodArguments[0].ToString()["System.Runtime.CompilerServices.".Length..]);
        Assert.Equal("Foo+<RunAsync>d__3", method.MethodArguments[1].Name);
        Assert.Equal(["byref", "System.Runtime.CompilerServices.IAsyncStateMachineBox"], method.Parameters.Select(p => p.Name));
        Assert.Null(JitMethodName.FromSummaryLine("   7: JIT compiled (dynamicClass):IL_STUB_PInvoke(nint) [FullOpts, IL size=31, code size=141]"));
    }

    [Fact]
    public void Shared_generic_code_is_written_over_object_with_the_definition_s_own_signature()
    {
        var references = new IlReferences(CliAndFramework.Value.Types);

        var add = references.MethodOperand(JitMethodName.Parse("System.Collections.Generic.List`1[System.__Canon]:Add(System.__Canon)")!);

        Assert.Equal("instance void class ['System.Private.CoreLib']'System.Collections.Generic.List`1'<object>::'Add'(!0)", add);
    }

    [Fact]
    public void An_async_method_s_state_machine_box_is_written_with_the_box_nested_in_its_builder()
    {
        var references = new IlReferences(CliAndFramework.Value.Types);
        var stateMachine = typeof(JobStateStore).GetNestedTypes(System.Reflection.BindingFlags.NonPublic)
            .Single(t => t.Name.StartsWith("<LoadIndexAsync>", StringComparison.Ordinal));
        var kind = stateMachine.IsValueType ? "valuetype" : "class"; // a struct in Release builds, a class in Debug ones

        var moveNext = references.MethodOperand(JitMethodName.Parse(
            "System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1" +
            $"[System.__Canon,{stateMachine.FullName}]:MoveNext(System.Threading.Thread)")!);

        Assert.Equal(
            "instance void class ['System.Private.CoreLib']'System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1'/'AsyncStateMachineBox`1'" +
            $"<object, {kind} ['EfficientNet.Batch.Components']'EfficientNet.Batch.Components.Jobs.JobStateStore'/'{stateMachine.Name}'>" +
            "::'MoveNext'(class ['System.Private.CoreLib']'System.Threading.Thread')",
            moveNext);
        Assert.Contains("EfficientNet.Batch.Components", references.Assemblies);
    }

    [Fact]
    public void Overloads_are_told_apart_by_their_parameters_and_a_method_that_is_not_there_is_left_out()
    {
        var references = new IlReferences(CliAndFramework.Value.Types);

        var concat = references.MethodOperand(JitMethodName.Parse("System.String:Concat(System.String,System.String)")!);
        var missing = references.MethodOperand(JitMethodName.Parse("System.String:NoSuchMethod(int)")!);
        var missingType = references.MethodOperand(JitMethodName.Parse("No.Such.Type:Run()")!);

        Assert.Equal("string class ['System.Private.CoreLib']'System.String'::'Concat'(string, string)", concat);
        Assert.Null(missing);
        Assert.Null(missingType);
    }

    [Fact]
    public void A_method_left_out_half_way_adds_no_assembly_to_the_profile()
    {
        var references = new IlReferences(CliAndFramework.Value.Types);

        // List`1 is found (its assembly is met first), its type argument is not.
        var operand = references.MethodOperand(JitMethodName.Parse("System.Collections.Generic.List`1[No.Such.Type]:Add(System.__Canon)")!);

        Assert.Null(operand);
        Assert.Empty(references.Assemblies);
    }

    [Fact]
    public void The_profile_assembles_into_a_mibc_file_that_opens_with_crossgen2_s_assembly_dictionary()
    {
        var references = new IlReferences(CliAndFramework.Value.Types);
        var name = JitMethodName.Parse("System.Collections.Generic.List`1[System.__Canon]:Add(System.__Canon)")!;
        var folder = Directory.CreateTempSubdirectory("effnet-profile-");
        try
        {
            var il = Path.Combine(folder.FullName, "p.il");
            var mibc = Path.Combine(folder.FullName, "p.mibc");
            File.WriteAllText(il, MibcSource.Write(["System.Private.CoreLib"], [(name.ToString(), references.MethodOperand(name)!)]));

            Assert.Null(IlAssembler.Assemble(IlAsm(), il, mibc));

            using var pe = new PEReader(File.OpenRead(mibc));
            var metadata = pe.GetMetadataReader();
            var methods = metadata.MethodDefinitions.Select(h => metadata.GetString(metadata.GetMethodDefinition(h).Name)).ToList();
            Assert.Equal(["AssemblyDictionary", "Startup"], methods);
            var body = pe.GetMethodBody(metadata.GetMethodDefinition(metadata.MethodDefinitions.First()).RelativeVirtualAddress).GetILBytes()!;
            Assert.Equal((byte)ILOpCode.Ldstr, body[0]);
            Assert.Equal((byte)ILOpCode.Ldtoken, body[5]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Nearly_every_method_of_the_checked_in_list_still_exists_in_the_CLI()
    {
        var names = File.ReadLines(Repository.PathOf(MethodList)).Select(JitMethodName.FromSummaryLine).OfType<JitMethodName>().ToList();
        var references = new IlReferences(CliAndFramework.Value.Types);

        var missing = names.Where(n => references.MethodOperand(n) is null).Select(n => n.ToString()).ToList();

        Assert.True(names.Count > 300, $"{MethodList} holds {names.Count} methods");
        Assert.True(
            missing.Count <= names.Count / 10,
            $"{missing.Count} of {names.Count} methods in {MethodList} are no longer in the CLI: run scripts/startup-profile.sh. " +
            $"First ones: {string.Join("; ", missing.Take(10))}");
    }

    /// <summary>The CLI's build beside this one (Debug or Release), and the shared frameworks it runs on.</summary>
    private static IEnumerable<string> CliAssemblies()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var cli = Repository.PathOf($"src/EfficientNet.Batch.Cli/bin/{configuration}/net10.0");
        if (!File.Exists(Path.Combine(cli, "effnet.dll")))
        {
            throw new FileNotFoundException($"Build the CLI first: no effnet.dll in {cli}.");
        }

        var netCore = RuntimeEnvironment.GetRuntimeDirectory();
        var aspNetCore = Path.Combine(netCore, "..", "..", "Microsoft.AspNetCore.App", Path.GetFileName(Path.TrimEndingDirectorySeparator(netCore)));
        return new[] { cli, netCore, aspNetCore }.Where(Directory.Exists).SelectMany(d => Directory.EnumerateFiles(d, "*.dll"));
    }

    /// <summary>The IL assembler the tool's project downloads (a PackageDownload of the SDK's runtime version).</summary>
    private static string IlAsm()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var rid = RuntimeInformation.RuntimeIdentifier;
        var package = Path.Combine(packages, $"runtime.{rid}.microsoft.netcore.ilasm");
        var path = Directory.Exists(package)
            ? Directory.EnumerateDirectories(package).Order(StringComparer.Ordinal)
                .Select(version => Path.Combine(version, "runtimes", rid, "native", "ilasm")).LastOrDefault(File.Exists)
            : null;
        Assert.True(path is not null, $"No IL assembler under {package}: restore tools/EfficientNet.Batch.StartupProfile.");
        return path;
    }
}
