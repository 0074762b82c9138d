using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator.Security;

/// <summary>The configured keys with their hashes decoded once for the process (a handler is created per request).</summary>
public sealed class ConfiguredApiKeys(IOptions<AuthOptions> auth)
{
    public IReadOnlyList<(ApiKeyOptions Key, byte[] Hash)> Hashes { get; } =
        [.. auth.Value.ApiKeys.Select(k => (k, Convert.FromHexString(k.Sha256)))];
}
