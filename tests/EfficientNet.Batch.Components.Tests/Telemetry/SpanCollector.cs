using System.Collections;
using System.Diagnostics;
using EfficientNet.Batch.Contracts;
using MassTransit.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace EfficientNet.Batch.Components.Tests.Telemetry;

/// <summary>
/// The spans a host would export (the project's source and MassTransit's, as ServiceDefaults registers them), kept by
/// OpenTelemetry's in-memory exporter. Listeners are process-wide and tests run in parallel, so a test reads the spans
/// of its own job only.
/// </summary>
internal sealed class SpanCollector : IDisposable
{
    private readonly ExportedSpans _spans = new();
    private readonly TracerProvider _provider;

    public SpanCollector()
    {
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(TelemetryNames.ActivitySource, DiagnosticHeaders.DefaultListenerName)
            .AddInMemoryExporter(_spans)
            .Build();
    }

    /// <summary>Every span exported so far.</summary>
    public IReadOnlyList<Activity> All => _spans.Snapshot();

    /// <summary>The spans of one trace, once <paramref name="complete"/> holds for them: a span is exported when it
    /// ends, and the last ones (the merge, the consume around it) end a moment after the job's status is written.</summary>
    public async Task<IReadOnlyList<Activity>> WaitForTraceAsync(ActivityTraceId traceId, Func<IReadOnlyList<Activity>, bool> complete)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var trace = All.Where(s => s.TraceId == traceId).ToList();
            if (complete(trace) || DateTime.UtcNow > deadline)
            {
                return trace;
            }

            await Task.Delay(50);
        }
    }

    public void Dispose() => _provider.Dispose();

    /// <summary>The exporter adds from whichever thread ends a span; reads take a copy under the same lock.</summary>
    private sealed class ExportedSpans : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>Reading a trace the way a person does in Jaeger: by job id, parents and roots.</summary>
internal static class TraceReading
{
    public static string? JobId(this Activity span) => span.GetTagItem(Components.Telemetry.JobTracing.Tags.JobId) as string;

    /// <summary>The span's ancestors within <paramref name="trace"/>, nearest first.</summary>
    public static IEnumerable<Activity> Ancestors(this Activity span, IReadOnlyList<Activity> trace)
    {
        var byId = trace.ToDictionary(s => s.SpanId);
        var parent = span.ParentSpanId;
        while (parent != default && byId.TryGetValue(parent, out var next))
        {
            yield return next;
            parent = next.ParentSpanId;
        }
    }

    /// <summary>Every span's parent is a span of the trace: nothing hangs off a span that was never exported.</summary>
    public static bool IsConnected(IReadOnlyList<Activity> trace)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        return trace.All(s => s.ParentSpanId == default || ids.Contains(s.ParentSpanId));
    }
}
