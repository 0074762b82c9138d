using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using EfficientNet.Batch.Components.Telemetry;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>
/// The Prometheus series the hosts' instruments become after the OpenTelemetry Collector's prometheus exporter
/// (deploy/observability/otel-collector.yaml, add_metric_suffixes): dots become underscores, the unit is appended
/// (ms -> milliseconds, s -> seconds, By -> bytes; annotations in braces such as {image} are dropped), monotonic
/// counters end in _total and histograms are _bucket, _sum and _count. The instruments are the ones the code creates,
/// found with a <see cref="MeterListener"/>: the project's meter and .NET's System.Runtime meter.
/// </summary>
internal static partial class PrometheusNames
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Emitted = new(Collect);

    /// <summary>PromQL's binary operators and modifiers, which read like metric names.</summary>
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "and", "or", "unless", "bool", "offset", "inf", "nan" };

    /// <summary>Every series name the hosts' instruments produce, to the instrument it comes from.</summary>
    public static IReadOnlyDictionary<string, string> Series => Emitted.Value;

    /// <summary>The series names an instrument becomes.</summary>
    public static IEnumerable<string> Of(string name, string? unit, Type instrumentType)
    {
        var baseName = Invalid().Replace(name, "_");
        var suffix = Unit(unit);
        if (suffix.Length > 0 && !baseName.EndsWith($"_{suffix}", StringComparison.Ordinal))
        {
            baseName = $"{baseName}_{suffix}";
        }

        var definition = instrumentType.IsGenericType ? instrumentType.GetGenericTypeDefinition() : instrumentType;
        if (definition == typeof(Histogram<>))
        {
            return [$"{baseName}_bucket", $"{baseName}_sum", $"{baseName}_count"];
        }

        return definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>) ? [$"{baseName}_total"] : [baseName];
    }

    /// <summary>The metric names a PromQL expression reads that start with one of <paramref name="prefixes"/>.</summary>
    public static IEnumerable<string> In(string promql, params string[] prefixes)
    {
        // Label names are not metrics: drop selectors ({queue="..."}) and label lists (by (...), on (...), ...) first.
        var metricsOnly = LabelList().Replace(Selector().Replace(promql, ""), "");
        return Identifier().Matches(metricsOnly).Select(m => m.Value).Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal))).Distinct(StringComparer.Ordinal);
    }

    /// <summary>Every metric name a PromQL expression reads, whatever its prefix: identifiers that are not functions or
    /// aggregations (followed by an opening parenthesis), keywords, labels or Grafana variables.</summary>
    public static IEnumerable<string> Metrics(string promql)
    {
        var metricsOnly = LabelList().Replace(Selector().Replace(promql, ""), "");
        return Identifier().Matches(metricsOnly)
            .Where(m => !FunctionCall().IsMatch(metricsOnly[(m.Index + m.Length)..]) && !Keywords.Contains(m.Value))
            .Select(m => m.Value)
            .Distinct(StringComparer.Ordinal);
    }

    private static string Unit(string? unit)
    {
        var words = Annotation().Replace(unit ?? "", "").Trim();
        return words switch
        {
            "" or "1" => "",
            "ms" => "milliseconds",
            "s" => "seconds",
            "min" => "minutes",
            "h" => "hours",
            "By" => "bytes",
            "KiBy" => "kibibytes",
            "MiBy" => "mebibytes",
            "%" => "percent",
            _ => Invalid().Replace(words, "_"),
        };
    }

    private static Dictionary<string, string> Collect()
    {
        var series = new Dictionary<string, string>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name is BatchMetrics.Name or "System.Runtime")
            {
                lock (series)
                {
                    foreach (var name in Of(instrument.Name, instrument.Unit, instrument.GetType()))
                    {
                        series[name] = instrument.Name;
                    }
                }
            }
        };
        // The project's instruments are static fields: running the class constructor creates them.
        RuntimeHelpers.RunClassConstructor(typeof(BatchMetrics).TypeHandle);
        listener.Start();
        Assert.Contains("effnet_images_processed_total", series.Keys);
        return series;
    }

    [GeneratedRegex("[^a-zA-Z0-9_:]")]
    private static partial Regex Invalid();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Annotation();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex LabelList();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:$\.])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^\s*\(")]
    private static partial Regex FunctionCall();
}
