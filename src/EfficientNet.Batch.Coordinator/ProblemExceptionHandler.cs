using EfficientNet.Batch.Components.Jobs;
using Microsoft.AspNetCore.Diagnostics;

namespace EfficientNet.Batch.Coordinator;

/// <summary>
/// Turns what escapes a route into <c>application/problem+json</c>: a body or parameter that cannot be read (malformed
/// JSON: where and why) is a 400, and a state store or broker that cannot answer is a 503 with <c>Retry-After</c>.
/// Details never echo more than a bounded part of the input.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string title;
        string detail;
        switch (exception)
        {
            case BadHttpRequestException bad:
                status = bad.StatusCode;
                title = "The request cannot be read.";
                detail = bad.InnerException is System.Text.Json.JsonException json
                    ? $"The body is not valid JSON for this route: {Quote.Message(json.Message)}"
                    : Quote.Message(bad.Message);
                break;
            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                return true;
            case Azure.RequestFailedException or IOException or TimeoutException or OperationCanceledException or MassTransit.MassTransitException:
                status = StatusCodes.Status503ServiceUnavailable;
                title = "A service the coordinator depends on is unavailable.";
                detail = $"{exception.GetType().Name}: {Quote.Message(exception.Message)} Try again in a few seconds.";
                httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                LogUnavailable(httpContext.Request.Method, httpContext.Request.Path, exception.GetType().Name, exception.Message);
                break;
            default:
                return false;
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: {Error}: {Reason}")]
    private partial void LogUnavailable(string method, string path, string error, string reason);
}
