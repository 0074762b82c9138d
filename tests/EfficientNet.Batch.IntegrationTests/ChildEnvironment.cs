using System.Diagnostics;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>The environment a test gives a child process (a host, or the CLI): the test process's own, changed.</summary>
internal static class ChildEnvironment
{
    /// <summary>As a value: the variable is removed, not inherited.</summary>
    public static readonly string Unset = new(['\0', 'u', 'n', 's', 'e', 't']);

    /// <summary>Sets each variable of <paramref name="changes"/> in <paramref name="info"/>, removing those given
    /// <see cref="Unset"/>.</summary>
    public static void Apply(ProcessStartInfo info, IReadOnlyDictionary<string, string> changes)
    {
        foreach (var (key, value) in changes)
        {
            if (ReferenceEquals(value, Unset))
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }
    }
}
