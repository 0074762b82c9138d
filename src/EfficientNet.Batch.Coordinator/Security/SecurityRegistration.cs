using System.Globalization;
using System.Threading.RateLimiting;
using EfficientNet.Batch.Components.Jobs;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>Authentication (API keys, optional JWT bearer), one authorization policy per scope, the per-identity submit
/// rate limit and the request body limit (the <c>Limits</c> section is bound with the coordinator's components).</summary>
public static class SecurityRegistration
{
    public const string SelectorScheme = "effnet";
    public const string SubmitRateLimit = "submit";

    public static IHostApplicationBuilder AddCoordinatorSecurity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddSingleton<ConfiguredApiKeys>();

        var auth = builder.Configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        var authentication = builder.Services
            .AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "API key or bearer token", options => options.ForwardDefaultSelector = context =>
                auth.HasJwt && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (auth.HasJwt)
        {
            authentication.AddJwtBearer(options =>
            {
                options.Authority = auth.Jwt.Authority;
                options.Audience = auth.Jwt.Audience;
                options.RequireHttpsMetadata = auth.Jwt.RequireHttpsMetadata;
                // Keep "sub", "scope" and "scp" as the issuer wrote them.
                options.MapInboundClaims = false;
            });
        }

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddScopePolicies();
        builder.Services.AddSingleton<IAuthorizationHandler, ScopeRequirementHandler>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();

        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(SubmitRateLimit, context =>
            {
                var permits = context.RequestServices.GetRequiredService<IOptions<JobLimitsOptions>>().Value.SubmitPermitsPerMinute;
                var caller = context.User.Identity?.IsAuthenticated == true ? context.User.Id() : "unauthenticated";
                return RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = permits,
                    TokensPerPeriod = permits,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            options.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                var permits = http.RequestServices.GetRequiredService<IOptions<JobLimitsOptions>>().Value.SubmitPermitsPerMinute;
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many submissions.",
                        Detail = $"{http.User.Id()} may submit {permits} jobs a minute ({JobLimitsOptions.SectionName}:" +
                            $"{nameof(JobLimitsOptions.SubmitPermitsPerMinute)}); try again in {seconds} s.",
                    },
                });
            };
        });
        return builder;
    }

    /// <summary>Body limit, authentication, authorization and rate limiting, in that order.</summary>
    public static WebApplication UseCoordinatorSecurity(this WebApplication app)
    {
        app.UseMiddleware<RequestBodyLimit>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    private static AuthorizationBuilder AddScopePolicies(this AuthorizationBuilder builder)
    {
        foreach (var scope in Scopes.All)
        {
            builder.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
        }

        return builder;
    }
}
