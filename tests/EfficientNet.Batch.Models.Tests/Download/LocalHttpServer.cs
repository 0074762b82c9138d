using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace EfficientNet.Batch.Models.Tests.Download;

/// <summary>A real HTTP server on 127.0.0.1 and a free port, serving canned responses by path and recording every
/// request path in order.</summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentDictionary<string, Func<HttpListenerResponse, Task>> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _loop;

    public LocalHttpServer()
    {
        (_listener, BaseUrl) = Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>Ends in a slash, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; }

    public IReadOnlyList<string> RequestedPaths => [.. _requests];

    public Uri UrlOf(string path) => new(BaseUrl, path.TrimStart('/'));

    /// <summary>200 with the whole body and its Content-Length.</summary>
    public void Serve(string path, byte[] body) => _routes["/" + path.TrimStart('/')] = async response =>
    {
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
        response.Close();
    };

    /// <summary>Announces the whole Content-Length, sends only the first <paramref name="sentBytes"/>, then drops the connection.</summary>
    public void ServeCutShort(string path, byte[] body, int sentBytes) => _routes["/" + path.TrimStart('/')] = async response =>
    {
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body.AsMemory(0, sentBytes));
        await response.OutputStream.FlushAsync();
        response.Abort();
    };

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

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
            _requests.Enqueue(path);
            if (_routes.TryGetValue(path, out var respond))
            {
                _ = Task.Run(() => respond(context.Response));
            }
            else
            {
                context.Response.StatusCode = 404;
                context.Response.Close();
            }
        }
    }
}
