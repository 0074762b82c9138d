using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace EfficientNet.Batch.Models.Tests.Download;

/// <summary>A real HTTP server on 127.0.0.1 and a free port, serving canned responses by path and recording every
/// request in order.</summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentDictionary<string, Func<HttpListenerContext, Task>> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public LocalHttpServer()
    {
        (_listener, BaseUrl) = Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>Ends in a slash, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; }

    public IReadOnlyList<string> RequestedPaths => [.. _requests.Select(r => r.Path)];

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public Uri UrlOf(string path) => new(BaseUrl, path.TrimStart('/'));

    /// <summary>200 with the whole body and its Content-Length.</summary>
    public void Serve(string path, byte[] body) => Route(path, async context =>
    {
        context.Response.ContentLength64 = body.Length;
        await context.Response.OutputStream.WriteAsync(body);
        context.Response.Close();
    });

    /// <summary>Announces the whole Content-Length, sends only the first <paramref name="sentBytes"/>, then drops the
    /// connection. No validator: the client cannot resume.</summary>
    public void ServeCutShort(string path, byte[] body, int sentBytes) => Route(path, async context =>
    {
        context.Response.ContentLength64 = body.Length;
        await context.Response.OutputStream.WriteAsync(body.AsMemory(0, sentBytes));
        await context.Response.OutputStream.FlushAsync();
        context.Response.Abort();
    });

    /// <summary>A file as a static file server serves it: <paramref name="etag"/> as its ETag, <c>Range: bytes=N-</c>
    /// answered with 206 and Content-Range (unless <paramref name="honourRange"/> is false), an <c>If-Range</c> that is
    /// not the ETag answered with the whole file, a range past the end with 416. The i-th response suffers the i-th of
    /// <paramref name="faults"/>; later ones none.</summary>
    public void ServeFile(string path, byte[] body, string etag = "\"v1\"", bool honourRange = true, params BodyFault[] faults)
    {
        var pending = new ConcurrentQueue<BodyFault>(faults);
        Route(path, async context =>
        {
            var (request, response) = (context.Request, context.Response);
            response.AddHeader("ETag", etag);
            response.AddHeader("Accept-Ranges", "bytes");
            var from = 0;
            if (honourRange && ParseRangeStart(request.Headers["Range"]) is { } start
                && (request.Headers["If-Range"] is not { } ifRange || ifRange == etag))
            {
                if (start >= body.Length)
                {
                    response.StatusCode = 416;
                    response.AddHeader("Content-Range", $"bytes */{body.Length}");
                    response.Close();
                    return;
                }

                from = (int)start;
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {from}-{body.Length - 1}/{body.Length}");
            }

            response.ContentLength64 = body.Length - from;
            var rest = body.AsMemory(from);
            if (!pending.TryDequeue(out var fault))
            {
                await response.OutputStream.WriteAsync(rest);
                response.Close();
                return;
            }

            await response.OutputStream.WriteAsync(rest[..Math.Min(fault.SentBytes, rest.Length)]);
            await response.OutputStream.FlushAsync();
            // Let the client read what was sent before the connection goes.
            await WaitAsync(fault.Stall ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(50));
            response.Abort();
        });
    }

    /// <summary>The whole body in <paramref name="chunks"/> pieces with <paramref name="gap"/> between them: a slow link
    /// that never stops.</summary>
    /// <remarks>The pieces are written from a thread of their own, not the thread pool: a pool busy with the other
    /// tests in this process must not delay them into a stall the client would rightly report.</remarks>
    public void ServeSlowly(string path, byte[] body, int chunks, TimeSpan gap) => Route(path, context =>
        Task.Factory.StartNew(() =>
        {
            context.Response.ContentLength64 = body.Length;
            var size = (body.Length + chunks - 1) / chunks;
            for (var offset = 0; offset < body.Length; offset += size)
            {
                context.Response.OutputStream.Write(body, offset, Math.Min(size, body.Length - offset));
                context.Response.OutputStream.Flush();
                Thread.Sleep(gap);
            }

            context.Response.Close();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

    /// <summary>Accepts the request and never answers.</summary>
    public void ServeNoAnswer(string path) => Route(path, async context =>
    {
        await WaitAsync(Timeout.InfiniteTimeSpan);
        context.Response.Abort();
    });

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _listener.Close();
        await _loop;
        _stopping.Dispose();
    }

    /// <summary>Waits for <paramref name="delay"/> or until the server stops, whichever comes first.</summary>
    private async Task WaitAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Route(string path, Func<HttpListenerContext, Task> respond) => _routes["/" + path.TrimStart('/')] = respond;

    /// <summary>N of <c>bytes=N-</c>; null for no header or another form.</summary>
    private static long? ParseRangeStart(string? range) =>
        range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-')
        && long.TryParse(range["bytes=".Length..^1], out var start) ? start : null;

    private static (HttpListener, Uri) Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            // Ask the OS for a free port, then listen on it; retry if another process takes it in between.
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var url = new Uri($"http://127.0.0.1:{port}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(url.ToString());
            try
            {
                listener.Start();
                return (listener, url);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
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
                return;
            }

            var path = context.Request.Url!.AbsolutePath;
            _requests.Enqueue(new RecordedRequest(path, context.Request.Headers["Range"], context.Request.Headers["If-Range"]));
            if (_routes.TryGetValue(path, out var respond))
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await respond(context);
                    }
                    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                    {
                        // The client went away first (it gave up on a stall): nothing to answer.
                    }
                });
            }
            else
            {
                context.Response.StatusCode = 404;
                context.Response.Close();
            }
        }
    }
}

/// <summary>A request as the server saw it: the path and the resume headers.</summary>
internal sealed record RecordedRequest(string Path, string? Range, string? IfRange);

/// <summary>What goes wrong with one response body: after <paramref name="SentBytes"/> bytes the connection drops, or
/// (<paramref name="Stall"/>) goes quiet until the client gives up.</summary>
internal sealed record BodyFault(int SentBytes, bool Stall)
{
    public static BodyFault CutAfter(int bytes) => new(bytes, Stall: false);

    public static BodyFault StallAfter(int bytes) => new(bytes, Stall: true);
}
