using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Coordinator.Security;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.ServiceDefaults;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>
/// The hosts' configuration sections, found by reflection: every public class with a <c>SectionName</c> constant in
/// the projects that bind options. Tells whether an environment variable in ASP.NET's <c>Section__Key</c> form reaches
/// a public settable property, following nested objects and numbered list items (<c>Worker__PreloadModels__0__Id</c>)
/// the way the configuration binder does (case-insensitively).
/// </summary>
internal sealed class OptionsCatalogue
{
    private OptionsCatalogue(IEnumerable<Assembly> assemblies)
    {
        Sections = assemblies
            .Distinct()
            .SelectMany(a => a.GetExportedTypes())
            .Select(t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .ToDictionary(x => (string)x.Field!.GetRawConstantValue()!, x => x.Type, StringComparer.OrdinalIgnoreCase);
    }

    public static OptionsCatalogue Instance { get; } = new([
        typeof(MessagingOptions).Assembly,
        typeof(StorageOptions).Assembly,
        typeof(WorkerOptions).Assembly,
        typeof(InferenceOptions).Assembly,
        typeof(AuthOptions).Assembly,
    ]);

    /// <summary>Section name to options class.</summary>
    public IReadOnlyDictionary<string, Type> Sections { get; }

    /// <summary>Why <paramref name="variable"/> binds to nothing, or null when it reaches a settable value.</summary>
    public string? ProblemWith(string variable)
    {
        var segments = variable.Split("__");
        if (segments.Length < 2 || segments.Any(s => s.Length == 0))
        {
            return "is not in the Section__Key form";
        }

        if (!Sections.TryGetValue(segments[0], out var type))
        {
            return $"names section '{segments[0]}', which no options class binds (sections: {string.Join(", ", Sections.Keys.Order(StringComparer.Ordinal))})";
        }

        for (var i = 1; i < segments.Length; i++)
        {
            var segment = segments[i];
            var parent = string.Join("__", segments[..i]);
            if (IsValue(type))
            {
                return $"goes below {parent}, which is a {type.Name} value";
            }

            if (DictionaryValueType(type) is { } valueType)
            {
                type = valueType;
                continue;
            }

            if (ElementType(type) is { } elementType)
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return $"{parent} is a list: its items are numbered ({parent}__0__...), not '{segment}'";
                }

                type = elementType;
                continue;
            }

            var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return $"{type.Name} has no public property '{segment}'";
            }

            if (property.SetMethod is not { IsPublic: true })
            {
                return $"{type.Name}.{property.Name} is read-only";
            }

            type = property.PropertyType;
        }

        return IsValue(type) ? null : $"names a {type.Name}, not a value: name one of its members";
    }

    /// <summary>What the configuration binder sets from a string (it converts with the type's TypeConverter).</summary>
    private static bool IsValue(Type type) =>
        TypeDescriptor.GetConverter(Nullable.GetUnderlyingType(type) ?? type).CanConvertFrom(typeof(string));

    private static Type? ElementType(Type type) =>
        type.IsArray
            ? type.GetElementType()
            : type.IsGenericType && type.GetGenericArguments() is [var element] && typeof(IEnumerable<>).MakeGenericType(element).IsAssignableFrom(type)
                ? element
                : null;

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string) &&
        typeof(IEnumerable<>).MakeGenericType(typeof(KeyValuePair<,>).MakeGenericType(key, value)).IsAssignableFrom(type)
            ? value
            : null;
}
