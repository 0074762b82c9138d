using System.Reflection;

namespace EfficientNet.Batch.StartupProfile;

/// <summary>Turns a method the JIT named into the operand of an IL <c>ldtoken method</c>: its declaring type and method
/// arguments as the JIT saw them (<c>System.__Canon</c> as <c>object</c>, the same shared code), and its signature as its
/// definition declares it, read from the assemblies' metadata.</summary>
public sealed class IlReferences
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<string, string> JitPrimitives = new(StringComparer.Ordinal)
    {
        ["bool"] = "bool", ["char"] = "char", ["sbyte"] = "int8", ["byte"] = "uint8", ["ubyte"] = "uint8",
        ["short"] = "int16", ["ushort"] = "uint16", ["int"] = "int32", ["uint"] = "uint32", ["long"] = "int64",
        ["ulong"] = "uint64", ["float"] = "float32", ["double"] = "float64", ["nint"] = "native int",
        ["nuint"] = "native uint", ["System.__Canon"] = "object",
    };

    private static readonly Dictionary<string, string> Keywords = new(StringComparer.Ordinal)
    {
        ["System.Void"] = "void", ["System.Boolean"] = "bool", ["System.Char"] = "char", ["System.SByte"] = "int8",
        ["System.Byte"] = "uint8", ["System.Int16"] = "int16", ["System.UInt16"] = "uint16", ["System.Int32"] = "int32",
        ["System.UInt32"] = "uint32", ["System.Int64"] = "int64", ["System.UInt64"] = "uint64", ["System.Single"] = "float32",
        ["System.Double"] = "float64", ["System.IntPtr"] = "native int", ["System.UIntPtr"] = "native uint",
        ["System.String"] = "string", ["System.Object"] = "object", ["System.TypedReference"] = "typedref",
    };

    private readonly IReadOnlyDictionary<string, Type> _types;
    private readonly SortedSet<string> _assemblies = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);

    /// <param name="types">Every type of the assemblies, by full name (nested types joined by <c>+</c>).</param>
    public IlReferences(IReadOnlyDictionary<string, Type> types) => _types = types;

    /// <summary>The assemblies the references written so far point into.</summary>
    public IReadOnlyCollection<string> Assemblies => _assemblies;

    /// <summary>The operand, or null when the method is not in these assemblies, its overload cannot be told apart, or a
    /// type it mentions is not there or cannot be written in IL. Only a written operand adds to <see cref="Assemblies"/>.</summary>
    public string? MethodOperand(JitMethodName method)
    {
        _pending.Clear();
        try
        {
            var operand = Operand(method);
            if (operand is not null)
            {
                _assemblies.UnionWith(_pending);
            }

            return operand;
        }
        catch (UnresolvedTypeException)
        {
            return null;
        }
    }

    private string? Operand(JitMethodName method)
    {
        if (!_types.TryGetValue(method.DeclaringType.Name, out var declaring))
        {
            return null;
        }

        var candidates = Candidates(declaring, method).ToList();
        if (candidates.Count > 1)
        {
            candidates = candidates.Where(m => ParametersMatch(m, method.Parameters)).ToList();
        }

        if (candidates.Count != 1)
        {
            return null;
        }

        var definition = candidates[0];
        var returnType = definition is MethodInfo info ? Signature(info.ReturnType, info.ReturnParameter) : "void";
        var arguments = method.MethodArguments.Count == 0 ? "" : $"<{string.Join(", ", method.MethodArguments.Select(Instantiation))}>";
        var parameters = string.Join(", ", definition.GetParameters().Select(p => Signature(p.ParameterType, p)));
        var name = method.Name is ".ctor" or ".cctor" ? method.Name : Quote(method.Name);
        var instance = definition.IsStatic ? "" : "instance ";
        return $"{instance}{returnType} {Instantiated(declaring, method.DeclaringType.Arguments)}::{name}{arguments}({parameters})";
    }

    private static IEnumerable<MethodBase> Candidates(Type declaring, JitMethodName method)
    {
        IEnumerable<MethodBase> named = method.Name switch
        {
            ".ctor" => declaring.GetConstructors(Declared & ~BindingFlags.Static),
            ".cctor" => declaring.GetConstructors(Declared & ~BindingFlags.Instance),
            _ => declaring.GetMethods(Declared).Where(m => m.Name == method.Name),
        };
        return named.Where(m =>
            m.GetParameters().Length == method.Parameters.Count
            && (m.IsGenericMethodDefinition ? m.GetGenericArguments().Length : 0) == method.MethodArguments.Count);
    }

    private static bool ParametersMatch(MethodBase candidate, IReadOnlyList<JitTypeName> parameters) =>
        candidate.GetParameters().Select((p, i) => Matches(p.ParameterType, parameters[i])).All(match => match);

    /// <summary>Whether a declared parameter type can be the one the JIT printed (it prints shared code's type arguments
    /// as <c>System.__Canon</c>, and every by-reference type as <c>byref</c>).</summary>
    private static bool Matches(Type declared, JitTypeName printed)
    {
        if (declared.IsByRef)
        {
            return printed.Name == "byref";
        }

        if (declared.IsGenericParameter || printed.Name == "System.__Canon")
        {
            return true;
        }

        if (declared.IsPointer)
        {
            return printed.Name is "ptr" or "nint";
        }

        if (JitPrimitives.ContainsKey(printed.Name))
        {
            return declared.IsPrimitive;
        }

        if (declared.IsArray)
        {
            return printed.Name == "[]";
        }

        var name = declared.IsConstructedGenericType ? declared.GetGenericTypeDefinition().FullName : declared.FullName;
        return name == printed.Name;
    }

    /// <summary>A type argument as the JIT printed it.</summary>
    private string Instantiation(JitTypeName type)
    {
        if (JitPrimitives.TryGetValue(type.Name, out var primitive))
        {
            return primitive;
        }

        if (type.Name == "[]")
        {
            return $"{Instantiation(type.Arguments[0])}[]";
        }

        if (!_types.TryGetValue(type.Name, out var resolved))
        {
            throw new UnresolvedTypeException(type.Name);
        }

        return Keywords.TryGetValue(type.Name, out var keyword) ? keyword : Instantiated(resolved, type.Arguments);
    }

    private string Instantiated(Type definition, IReadOnlyList<JitTypeName> arguments)
    {
        var kind = definition.IsValueType ? "valuetype" : "class";
        var reference = $"{kind} {TypeReference(definition)}";
        return arguments.Count == 0 ? reference : $"{reference}<{string.Join(", ", arguments.Select(Instantiation))}>";
    }

    /// <summary>A type in a definition's signature: generic parameters as <c>!n</c> / <c>!!n</c>, modifiers kept (the
    /// reference must match the definition's signature exactly).</summary>
    private string Signature(Type type, ParameterInfo? parameter)
    {
        var text = SignatureType(type);
        if (parameter is not null)
        {
            text += string.Concat(parameter.GetRequiredCustomModifiers().Select(m => $" modreq({TypeReference(m)})"));
            text += string.Concat(parameter.GetOptionalCustomModifiers().Select(m => $" modopt({TypeReference(m)})"));
        }

        return text;
    }

    private string SignatureType(Type type)
    {
        if (type.IsByRef)
        {
            return SignatureType(type.GetElementType()!) + "&";
        }

        if (type.IsPointer)
        {
            return SignatureType(type.GetElementType()!) + "*";
        }

        if (type.IsSZArray)
        {
            return SignatureType(type.GetElementType()!) + "[]";
        }

        if (type.IsArray)
        {
            return $"{SignatureType(type.GetElementType()!)}[{new string(',', type.GetArrayRank() - 1)}]";
        }

        if (type.IsGenericParameter)
        {
            return (type.IsGenericMethodParameter ? "!!" : "!") + type.GenericParameterPosition;
        }

        if (type.IsFunctionPointer)
        {
            throw new UnresolvedTypeException($"function pointer {type}");
        }

        if (type.FullName is { } full && Keywords.TryGetValue(full, out var keyword))
        {
            return keyword;
        }

        if (type.IsConstructedGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var kind = definition.IsValueType ? "valuetype" : "class";
            return $"{kind} {TypeReference(definition)}<{string.Join(", ", type.GetGenericArguments().Select(SignatureType))}>";
        }

        return $"{(type.IsValueType ? "valuetype" : "class")} {TypeReference(type)}";
    }

    /// <summary><c>[Assembly]'Namespace.Outer'/'Inner'</c>: every name quoted, since compiler-generated ones hold
    /// <c>&lt;&gt;</c>.</summary>
    private string TypeReference(Type type)
    {
        var assembly = type.Assembly.GetName().Name!;
        _pending.Add(assembly);
        var chain = new List<Type>();
        for (var current = type; current is not null; current = current.IsNested ? current.DeclaringType : null)
        {
            chain.Insert(0, current);
        }

        var outer = chain[0];
        var outerName = string.IsNullOrEmpty(outer.Namespace) ? outer.Name : $"{outer.Namespace}.{outer.Name}";
        return $"[{Quote(assembly)}]{Quote(outerName)}{string.Concat(chain.Skip(1).Select(t => "/" + Quote(t.Name)))}";
    }

    public static string Quote(string name) => $"'{name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'";
}

/// <summary>A type a method's name or signature mentions is not in the assemblies, or cannot be written in IL.</summary>
internal sealed class UnresolvedTypeException(string type) : Exception($"Type not found or not expressible: {type}");
