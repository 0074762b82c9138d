using System.Text.RegularExpressions;

namespace EfficientNet.Batch.Models.Catalogue;

/// <summary>The name of a custom model: its id in every command and job, its folder in the model store and its
/// prefix in the shared store. Lowercase letters, digits, <c>_</c> and <c>-</c>, starting with a letter or digit (so
/// it is a safe file and blob name and never reads as an option), and not a zoo id.</summary>
public static partial class CustomModelName
{
    public const int MaxLength = 64;

    /// <summary>Why <paramref name="name"/> cannot name a custom model, or null when it can.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "a custom model needs a name (lowercase letters, digits, '_' and '-').";
        }

        if (ModelCatalogue.TryGet(name, out var zoo))
        {
            return $"'{name}' is the zoo model {zoo.Id}; a custom model needs a name of its own (e.g. {zoo.Id}_pets).";
        }

        if (name.Length > MaxLength)
        {
            return $"'{name}' is longer than {MaxLength} characters.";
        }

        return Allowed().IsMatch(name)
            ? null
            : $"'{name}' is not a valid custom model name: use lowercase letters, digits, '_' and '-', starting with a letter or digit"
                + (Allowed().IsMatch(name.ToLowerInvariant()) ? $" (e.g. '{name.ToLowerInvariant()}')." : ".");
    }

    /// <exception cref="InvalidModelNameException">The name is malformed or a zoo id.</exception>
    public static void Validate(string? name)
    {
        if (Problem(name) is { } problem)
        {
            throw new InvalidModelNameException(name ?? "", problem);
        }
    }

    public static bool IsValid(string? name) => Problem(name) is null;

    /// <summary>The form a custom model id is looked up by: trimmed and lower-cased, so that <c>--model MyPets</c>
    /// finds <c>mypets</c> as <c>--model EfficientNet_B0</c> finds the zoo's efficientnet_b0.</summary>
    public static string Canonicalize(string modelId) => modelId.Trim().ToLowerInvariant();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Allowed();
}

/// <summary>A name refused for a custom model (<see cref="CustomModelName.Problem"/> says why).</summary>
public sealed class InvalidModelNameException(string name, string problem) : ArgumentException(problem)
{
    public string Name { get; } = name;
}
