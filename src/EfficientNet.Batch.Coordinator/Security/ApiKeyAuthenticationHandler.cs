using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>
/// Authenticates the <c>X-API-Key</c> header against the configured SHA-256 hashes (compared in constant time), and,
/// when <see cref="AuthOptions.AllowAnonymous"/> is set, a request with no credentials at all as the anonymous admin.
/// The key itself is never kept, logged or echoed.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptions<AuthOptions> auth,
    ConfiguredApiKeys keys,
    ILoggerFactory logger,
    UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return Task.FromResult(auth.Value.AllowAnonymous && !Request.Headers.ContainsKey("Authorization")
                ? AuthenticateResult.Success(Ticket(CallerIdentity.Anonymous, CallerIdentity.Anonymous, Scopes.All))
                : AuthenticateResult.NoResult());
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(values[0]!));
        ApiKeyOptions? match = null;
        foreach (var (key, expected) in keys.Hashes)
        {
            // Every key is compared, so the time taken does not say which one nearly matched.
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                match = key;
            }
        }

        return Task.FromResult(match is null
            ? AuthenticateResult.Fail($"The {HeaderName} header does not hold a valid API key.")
            : AuthenticateResult.Success(Ticket("key:" + match.Name, match.Name, match.Scopes)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append("WWW-Authenticate", $"ApiKey header=\"{HeaderName}\"");
        return Task.CompletedTask;
    }

    private AuthenticationTicket Ticket(string id, string name, IEnumerable<string> scopes)
    {
        var claims = new List<Claim> { new(CallerIdentity.IdClaim, id), new(ClaimTypes.Name, name) };
        claims.AddRange(scopes.Select(s => new Claim("scope", s)));
        return new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName);
    }
}
