using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>Refuses to start a coordinator nobody could call safely: no credentials configured and anonymous access not
/// asked for, a key that is not a SHA-256, an unknown scope, half a JWT configuration. Messages name the setting and
/// never contain a configured value.</summary>
public sealed partial class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    private const string Section = AuthOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var errors = new List<string>();
        if (options.ApiKeys.Count == 0 && !options.HasJwt && !options.AllowAnonymous)
        {
            errors.Add(
                $"No caller could be authenticated: configure API keys ({Section}:ApiKeys:0:Name, {Section}:ApiKeys:0:Sha256, " +
                $"{Section}:ApiKeys:0:Scopes:0) or a JWT issuer ({Section}:Jwt:Authority and {Section}:Jwt:Audience), or set " +
                $"{Section}:AllowAnonymous=true to accept callers without credentials (local use only).");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            var prefix = $"{Section}:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                errors.Add($"{prefix}:Name is required: it names the identity the key's jobs belong to.");
            }
            else if (!names.Add(key.Name))
            {
                errors.Add($"{prefix}:Name '{key.Name}' is used by another key; each key needs its own name.");
            }

            if (!Sha256Hex().IsMatch(key.Sha256 ?? ""))
            {
                errors.Add($"{prefix}:Sha256 must be the lower-case hex SHA-256 of the key (64 characters): printf %s \"$KEY\" | sha256sum.");
            }

            if (key.Scopes.Count == 0)
            {
                errors.Add($"{prefix}:Scopes is empty: give the key at least one of {string.Join(", ", Scopes.All)}.");
            }

            foreach (var scope in key.Scopes.Where(s => !Scopes.All.Contains(s)))
            {
                errors.Add($"{prefix}:Scopes has an unknown scope '{Quote(scope)}'; known: {string.Join(", ", Scopes.All)}.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.Jwt.Authority) != string.IsNullOrWhiteSpace(options.Jwt.Audience))
        {
            errors.Add($"{Section}:Jwt:Authority and {Section}:Jwt:Audience go together: set both to accept bearer tokens, or neither.");
        }

        if (!string.IsNullOrWhiteSpace(options.Jwt.Authority) && !Uri.TryCreate(options.Jwt.Authority, UriKind.Absolute, out _))
        {
            errors.Add($"{Section}:Jwt:Authority must be an absolute URI (the token issuer).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string Quote(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
