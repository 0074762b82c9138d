using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>One span as a host exported it over OTLP, with the <c>service.name</c> of the process that exported it.</summary>
internal sealed record ReceivedSpan(
    string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> LinkedSpanIds)
{
    /// <summary>OTLP's <c>SPAN_KIND_PRODUCER</c>: a message send.</summary>
    public const int Producer = 4;

    public bool IsRoot => ParentSpanId.Length == 0;

    public string? Attribute(string key) => Attributes.GetValueOrDefault(key);
}

/// <summary>
/// A minimal OTLP/HTTP trace receiver (<c>POST /v1/traces</c>, protobuf) for host processes started with
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> and <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>: the hosts export exactly
/// as they do to a collector, and the test reads what each process exported. Metrics and logs are accepted and dropped.
/// </summary>
internal sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly Task _serving;

    public OtlpTraceReceiver()
    {
        var port = HostProcess.FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Endpoint { get; }

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    /// <summary>The environment that makes a host export its telemetry here, promptly.</summary>
    public IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    /// <summary>Waits until the spans received satisfy <paramref name="complete"/> (exporters send in batches), and
    /// returns them; after <paramref name="timeout"/>, returns what there is.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(Func<IReadOnlyList<ReceivedSpan>, bool> complete, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans;
            if (complete(spans) || DateTime.UtcNow > deadline)
            {
                return spans;
            }

            await Task.Delay(200);
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // Stopped.
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                foreach (var span in OtlpSpans.Read(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}

/// <summary>Reads the spans of an OTLP <c>ExportTraceServiceRequest</c> from its protobuf encoding: only the fields a
/// trace test needs (ids, name, kind, string/int attributes, links, the resource's <c>service.name</c>).</summary>
internal static class OtlpSpans
{
    public static List<ReceivedSpan> Read(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceSpans.Bytes);
            var resource = fields.Where(f => f.Number == 1).Select(f => Attributes(Fields(f.Bytes).Where(a => a.Number == 1))).FirstOrDefault()
                ?? new Dictionary<string, string>();
            var service = resource.GetValueOrDefault("service.name", "");
            foreach (var scopeSpans in fields.Where(f => f.Number == 2))
            {
                spans.AddRange(Fields(scopeSpans.Bytes).Where(f => f.Number == 2).Select(f => Span(service, Fields(f.Bytes))));
            }
        }

        return spans;
    }

    private static ReceivedSpan Span(string service, List<Field> span) => new(
        service,
        Hex(span, 1),
        Hex(span, 2),
        Hex(span, 4),
        System.Text.Encoding.UTF8.GetString(span.FirstOrDefault(f => f.Number == 5).Bytes.Span),
        (int)span.FirstOrDefault(f => f.Number == 6).Value,
        Attributes(span.Where(f => f.Number == 9)),
        span.Where(f => f.Number == 13).Select(link => Hex(Fields(link.Bytes), 2)).ToList());

    /// <summary>Attributes from <c>KeyValue</c> fields (number 1 of a Resource, 9 of a Span).</summary>
    private static Dictionary<string, string> Attributes(IEnumerable<Field> keyValues)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in keyValues)
        {
            var keyValue = Fields(pair.Bytes);
            var key = System.Text.Encoding.UTF8.GetString(keyValue.FirstOrDefault(f => f.Number == 1).Bytes.Span);
            var value = keyValue.Where(f => f.Number == 2).Select(f => Fields(f.Bytes)).FirstOrDefault() ?? [];
            // AnyValue: 1 string, 2 bool, 3 int64; others are not needed here.
            attributes[key] = value.Count == 0 ? "" : value[0].Number switch
            {
                1 => System.Text.Encoding.UTF8.GetString(value[0].Bytes.Span),
                2 => (value[0].Value != 0).ToString(),
                3 => ((long)value[0].Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }

        return attributes;
    }

    private static string Hex(List<Field> fields, int number) =>
        Convert.ToHexStringLower(fields.FirstOrDefault(f => f.Number == number).Bytes.Span);

    private readonly record struct Field(int Number, ulong Value, ReadOnlyMemory<byte> Bytes);

    /// <summary>The fields of one protobuf message, in order (wire types varint, 64-bit, length-delimited, 32-bit).</summary>
    private static List<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        var data = message.Span;
        var position = 0;
        while (position < data.Length)
        {
            var tag = Varint(data, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    fields.Add(new Field(number, Varint(data, ref position), default));
                    break;
                case 1:
                    fields.Add(new Field(number, BinaryPrimitives.ReadUInt64LittleEndian(data[position..]), default));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(data, ref position);
                    fields.Add(new Field(number, 0, message.Slice(position, length)));
                    position += length;
                    break;
                case 5:
                    fields.Add(new Field(number, BinaryPrimitives.ReadUInt32LittleEndian(data[position..]), default));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unexpected protobuf wire type {tag & 7} at byte {position}.");
            }
        }

        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
