using System.Diagnostics;
using System.Globalization;

namespace EfficientNet.Batch.Components.Benchmarking;

/// <summary>This process's resident memory, as Linux reports it in /proc/self/status (elsewhere, .NET's view of it).</summary>
public static class ProcessMemory
{
    /// <summary>Resident now (VmRSS).</summary>
    public static long CurrentRss() => ReadStatus("VmRSS:") ?? Environment.WorkingSet;

    /// <summary>The most the process has held resident (VmHWM). Linux updates VmHWM lazily (when memory is unmapped), so
    /// it can lag behind the current VmRSS: the larger of the two.</summary>
    public static long PeakRss()
    {
        if (ReadStatus("VmHWM:") is { } peak)
        {
            return Math.Max(peak, ReadStatus("VmRSS:") ?? 0);
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    // /proc/self/status reports kB; null where there is no procfs.
    private static long? ReadStatus(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return null;
        }

        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var value = line[key.Length..].Trim();
                var kilobytes = value.EndsWith("kB", StringComparison.Ordinal) ? value[..^2].Trim() : value;
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return null;
    }
}
