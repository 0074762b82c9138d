using System.Security.Claims;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>Who is calling and what it may do, read from the authenticated principal: API keys and anonymous callers
/// carry <see cref="IdClaim"/> and <c>scope</c> claims; JWTs carry <c>sub</c> and <c>scope</c> (space-separated) or
/// <c>scp</c> claims.</summary>
public static class CallerIdentity
{
    public const string IdClaim = "effnet:id";
    public const string Anonymous = "anonymous";

    /// <summary>The identity jobs are recorded under: <c>key:{name}</c>, <c>jwt:{subject}</c> or <c>anonymous</c>.</summary>
    public static string Id(this ClaimsPrincipal user)
    {
        if (user.FindFirst(IdClaim)?.Value is { } id)
        {
            return id;
        }

        var subject = user.FindFirst("sub")?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        return subject is null ? throw new InvalidOperationException("The caller has no identity claim.") : "jwt:" + subject;
    }

    public static IEnumerable<string> ScopesOf(this ClaimsPrincipal user) =>
        user.FindAll(c => c.Type is "scope" or "scp" or "http://schemas.microsoft.com/identity/claims/scope")
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal);

    public static bool IsAdmin(this ClaimsPrincipal user) => user.ScopesOf().Contains(Scopes.Admin, StringComparer.Ordinal);

    /// <summary>True when the caller has <paramref name="scope"/> or <see cref="Scopes.Admin"/>.</summary>
    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.ScopesOf().Any(s => s == scope || s == Scopes.Admin);

    /// <summary>Whether the caller may see a job submitted by <paramref name="submittedBy"/>: its own, or any as admin.</summary>
    public static bool MaySee(this ClaimsPrincipal user, string? submittedBy) =>
        user.IsAdmin() || (submittedBy is not null && string.Equals(submittedBy, user.Id(), StringComparison.Ordinal));

    /// <summary>The submitter a listing is confined to: null (everyone's) for an admin.</summary>
    public static string? ListFilter(this ClaimsPrincipal user) => user.IsAdmin() ? null : user.Id();
}
