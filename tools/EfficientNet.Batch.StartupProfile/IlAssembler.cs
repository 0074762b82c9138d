using System.Diagnostics;

namespace EfficientNet.Batch.StartupProfile;

/// <summary>The IL assembler (<c>ilasm</c>), run on one IL file to make a library: a .mibc profile is one.</summary>
public static class IlAssembler
{
    /// <summary>Assembles <paramref name="il"/> into <paramref name="output"/>; null, or what ilasm said when it failed.</summary>
    public static string? Assemble(string ilasm, string il, string output)
    {
        using var process = Process.Start(new ProcessStartInfo(ilasm, ["-dll", "-quiet", $"-output={output}", il])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? null : $"ilasm exited {process.ExitCode} on {il}: {stdout}{stderr.Result}";
    }
}
