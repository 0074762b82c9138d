using EfficientNet.Batch.Components.Jobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>Refuses a body larger than <see cref="JobLimitsOptions.MaxRequestBodyBytes"/> before it is read (413
/// problem+json when the length is declared) and caps a body of undeclared length at the same size.</summary>
public sealed class RequestBodyLimit(RequestDelegate next, IOptions<JobLimitsOptions> limits, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var max = limits.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "The request body is too large.",
                    Detail = $"The body has {context.Request.ContentLength} bytes; the most this coordinator reads is {max} " +
                        $"({JobLimitsOptions.SectionName}:{nameof(JobLimitsOptions.MaxRequestBodyBytes)}).",
                },
            });
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = max;
        }

        await next(context);
    }
}
