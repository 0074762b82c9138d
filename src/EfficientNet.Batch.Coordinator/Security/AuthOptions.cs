namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>Section "Auth": who may call the coordinator. At least one API key or a JWT issuer must be configured, or
/// <see cref="AllowAnonymous"/> set explicitly (see <see cref="AuthOptionsValidator"/>).</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>API keys accepted in the <c>X-API-Key</c> header, stored only as their SHA-256.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>Bearer tokens from an identity provider (both settings or neither).</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>Accept callers without credentials, as an admin. For a coordinator only its owner can reach (local use):
    /// it must be set explicitly, and only applies to requests that carry no credentials.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Whether <c>/openapi/v1.json</c> and <c>/scalar</c> need credentials too (any valid caller).</summary>
    public bool ProtectApiReference { get; set; } = true;

    public bool HasJwt => !string.IsNullOrWhiteSpace(Jwt.Authority) && !string.IsNullOrWhiteSpace(Jwt.Audience);
}

/// <summary>One API key: <c>Auth:ApiKeys:N:Name</c>, <c>Auth:ApiKeys:N:Sha256</c>, <c>Auth:ApiKeys:N:Scopes</c>.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The identity the key's jobs are recorded under (<c>key:{Name}</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the key's UTF-8 bytes (<c>printf %s "$KEY" | sha256sum</c>); the key itself is
    /// never stored.</summary>
    public string Sha256 { get; set; } = "";

    public List<string> Scopes { get; set; } = [];
}

/// <summary><c>Auth:Jwt:Authority</c> (the issuer, whose OpenID metadata gives the signing keys) and <c>Auth:Jwt:Audience</c>.</summary>
public sealed class JwtOptions
{
    public string? Authority { get; set; }

    public string? Audience { get; set; }

    /// <summary>Fetch the issuer's metadata over HTTPS only (turn off only for a local test issuer).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}
