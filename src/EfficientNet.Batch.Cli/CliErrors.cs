using System.CommandLine;

namespace EfficientNet.Batch.Cli;

/// <summary>
/// How every command reports a failure: one <c>error: …</c> line on stderr, in the user's terms. With
/// <c>--verbose</c> (or <c>EFFNET_VERBOSE=1</c>) the exception behind the line follows it in full, for a bug report;
/// without, no stack trace reaches the terminal for anything a user can cause.
/// </summary>
internal static class CliErrors
{
    public const string VerboseEnvironmentVariable = "EFFNET_VERBOSE";

    /// <summary>Set once by <c>Program</c> from <c>--verbose</c> and <see cref="VerboseEnvironmentVariable"/>.</summary>
    public static bool Verbose { get; set; }

    public static Option<bool> CreateVerboseOption() => new(EffnetCommandLine.VerboseOptionName)
    {
        Description = $"On an error, print the full exception after the error line (also ${VerboseEnvironmentVariable}=1).",
        Recursive = true,
    };

    /// <summary>Whether the environment asks for verbose errors: <c>1</c>, <c>true</c> or <c>yes</c>.</summary>
    public static bool VerboseFromEnvironment() =>
        Environment.GetEnvironmentVariable(VerboseEnvironmentVariable)?.Trim().ToLowerInvariant() is "1" or "true" or "yes";

    /// <summary>Writes <c>error: <paramref name="message"/></c>, then <paramref name="cause"/>'s trace when verbose.</summary>
    public static void Report(string message, Exception? cause = null)
    {
        Console.Error.WriteLine($"error: {message}");
        if (Verbose && cause is not null)
        {
            Console.Error.WriteLine(cause.ToString());
        }
    }
}
