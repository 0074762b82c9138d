namespace EfficientNet.Batch.ServiceDefaults;

/// <summary>A broker address (<c>amqp://user:password@host:5672/vhost</c>) as it may appear in a message or a log
/// line: the password masked, everything else kept so that the address still says where the broker is.</summary>
public static class BrokerAddress
{
    public const string Mask = "***";

    /// <summary><paramref name="address"/> with the password of its user information replaced by <see cref="Mask"/>;
    /// an address that does not parse keeps only its scheme, as the password's place in it is unknown.</summary>
    public static string Redact(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return address ?? "";
        }

        var schemeEnd = address.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return address.Contains('@', StringComparison.Ordinal) ? Mask : address;
        }

        // The user information runs to the last '@' before the path (a password may itself contain '@' or '/').
        var authorityStart = schemeEnd + 3;
        var at = address.LastIndexOf('@');
        if (at < authorityStart)
        {
            return address;
        }

        var userInfo = address[authorityStart..at];
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? userInfo : userInfo[..colon];
        return $"{address[..authorityStart]}{user}:{Mask}{address[at..]}";
    }
}
