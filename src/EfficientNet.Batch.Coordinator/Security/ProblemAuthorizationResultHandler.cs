using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>Answers a refused request with problem+json: 401 (no or bad credentials, with the scheme's
/// <c>WWW-Authenticate</c>) or 403 naming the scope the route needs. Never echoes the credential.</summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            // The handler's result is cached for the request: this does not authenticate twice.
            var failure = (await context.AuthenticateAsync()).Failure;
            await context.ChallengeAsync();
            var detail = failure switch
            {
                null => $"This route needs credentials: an {ApiKeyAuthenticationHandler.HeaderName} header (or a bearer token when the coordinator accepts them).",
                _ when failure.Message.StartsWith("The " + ApiKeyAuthenticationHandler.HeaderName, StringComparison.Ordinal) => failure.Message,
                _ => "The bearer token is not valid (signature, issuer, audience or lifetime).",
            };
            await WriteAsync(context, StatusCodes.Status401Unauthorized, "Authentication required.", detail);
            return;
        }

        if (authorizeResult.Forbidden)
        {
            var needed = authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<ScopeRequirement>().Select(r => r.Scope).ToList() ?? [];
            var has = context.User.ScopesOf().ToList();
            var detail = needed.Count == 0
                ? "The caller may not use this route."
                : $"This route needs the scope {string.Join(" and ", needed.Select(s => $"'{s}'"))} (or '{Scopes.Admin}'); the caller " +
                  $"{context.User.Id()} has {(has.Count == 0 ? "none" : string.Join(", ", has))}.";
            await context.ForbidAsync();
            await WriteAsync(context, StatusCodes.Status403Forbidden, "Missing scope.", detail);
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }

    private async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
