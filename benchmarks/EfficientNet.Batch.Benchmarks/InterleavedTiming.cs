using System.Diagnostics;

namespace EfficientNet.Batch.Benchmarks;

/// <summary>
/// Times several ways of handling the same photos on one thread, interleaved photo by photo (the first way rotating), so
/// that other work on a shared machine slows them alike and their ratios stay comparable.
/// </summary>
internal static class InterleavedTiming
{
    /// <summary>Photos whose names end in one of <paramref name="extensions"/>, in name order, read into memory.</summary>
    public static List<byte[]> ReadPhotos(string folder, int count, params string[] extensions) =>
        [.. Directory.EnumerateFiles(folder)
            .Where(f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)
            .Take(count)
            .Select(File.ReadAllBytes)];

    /// <summary>Seconds spent on all <paramref name="photos"/> by each of <paramref name="ways"/>.</summary>
    public static double[] Pass(IReadOnlyList<byte[]> photos, IReadOnlyList<Action<byte[]>> ways)
    {
        var ticks = new long[ways.Count];
        for (var p = 0; p < photos.Count; p++)
        {
            for (var k = 0; k < ways.Count; k++)
            {
                var i = (p + k) % ways.Count;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    ways[i](photos[p]);
                }
                catch (EfficientNet.Batch.Inference.ImageDecodeException)
                {
                    // As in the bench: a photo that does not decode costs what it cost.
                }

                ticks[i] += Stopwatch.GetTimestamp() - started;
            }
        }

        return [.. ticks.Select(t => (double)t / Stopwatch.Frequency)];
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
