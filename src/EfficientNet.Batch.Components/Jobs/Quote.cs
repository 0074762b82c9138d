namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Quotes a user's input inside an error message, cut to a bounded length, so that an error never echoes a
/// huge field back.</summary>
public static class Quote
{
    public const int MaxLength = 120;

    public static string Input(string? value)
    {
        if (value is null)
        {
            return "(null)";
        }

        return "'" + Bounded(value) + "'";
    }

    /// <summary>A user's input cut to a bounded length, unquoted (a span attribute).</summary>
    public static string Bounded(string value) =>
        value.Length <= MaxLength ? value : $"{value[..MaxLength]}… ({value.Length} characters)";

    /// <summary>A message that may contain user input (an exception's), cut to a bounded length.</summary>
    public static string Message(string message) =>
        message.Length <= 2 * MaxLength ? message : $"{message[..(2 * MaxLength)]}… (cut)";
}
