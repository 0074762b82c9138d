using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;

namespace EfficientNet.Batch.Storage;

/// <summary>Configuration section <c>Storage</c>: which Azure Storage account <c>az://</c> locations refer to, reached
/// either with a connection string (account key or SAS) or with an account URL and an Entra ID identity.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    /// <summary>Read when <see cref="AzureConnectionString"/> is not configured.</summary>
    public const string ConnectionStringEnvironmentVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>Connection string of the account that <c>az://</c> locations refer to. Optional: without it (and without
    /// <see cref="AccountUrl"/>) only file-system locations resolve. Falls back to the AZURE_STORAGE_CONNECTION_STRING
    /// environment variable. A secret: never logged, and validation messages never quote it.</summary>
    public string? AzureConnectionString { get; set; }

    /// <summary>Blob endpoint of the account, e.g. <c>https://account.blob.core.windows.net</c>, reached with
    /// <c>DefaultAzureCredential</c> (workload identity, managed identity, environment variables, <c>az login</c>)
    /// instead of a key: the alternative to <see cref="AzureConnectionString"/>, never combined with it.</summary>
    public string? AccountUrl { get; set; }

    /// <summary>The settings' names as an operator writes them, for messages.</summary>
    internal const string ConnectionStringSetting = $"{SectionName}:{nameof(AzureConnectionString)} (or {ConnectionStringEnvironmentVariable})";

    internal const string AccountUrlSetting = $"{SectionName}:{nameof(AccountUrl)}";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(AzureConnectionString);
        var hasAccountUrl = !string.IsNullOrWhiteSpace(AccountUrl);
        if (hasConnectionString && hasAccountUrl)
        {
            yield return new ValidationResult(
                $"Set either {ConnectionStringSetting} or {AccountUrlSetting} (DefaultAzureCredential), not both: they name " +
                "the account twice, possibly two different accounts.",
                [nameof(AzureConnectionString), nameof(AccountUrl)]);
            yield break;
        }

        if (hasAccountUrl && AccountUrlProblem(AccountUrl!) is { } urlProblem)
        {
            yield return new ValidationResult($"{AccountUrlSetting} '{ConnectionStringRedaction.RedactUrl(AccountUrl!)}' {urlProblem}", [nameof(AccountUrl)]);
        }

        if (hasConnectionString && ConnectionStringProblem(AzureConnectionString!) is { } problem)
        {
            // The value is a secret: the message names the setting and what is wrong, never the value.
            yield return new ValidationResult(
                $"{ConnectionStringSetting} is not a valid Azure Storage connection string ({problem}); the value is not shown " +
                "because it holds the account key.",
                [nameof(AzureConnectionString)]);
        }
    }

    private static string? AccountUrlProblem(string accountUrl)
    {
        if (!Uri.TryCreate(accountUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return "is not an absolute https:// URL (e.g. https://account.blob.core.windows.net).";
        }

        // A SAS in the URL would be a secret in a setting documented as not one; DefaultAzureCredential needs none.
        return uri.Query.Length > 0 || uri.UserInfo.Length > 0
            ? "must not carry a query string or user information: the identity comes from DefaultAzureCredential (use " +
              $"{ConnectionStringSetting} for a SAS)."
            : null;
    }

    private static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            // Parses the connection string without any network traffic.
            _ = new BlobServiceClient(connectionString);
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            // The SDK's messages describe the structure, but redact in case one ever quotes a part of the value.
            return ConnectionStringRedaction.Redact(e.Message, connectionString);
        }
    }
}

/// <summary>Removes the secret parts of an Azure Storage connection string (account key, SAS) from a text before it
/// reaches a message or a log line.</summary>
public static partial class ConnectionStringRedaction
{
    public const string Mask = "***";

    private static readonly string[] SecretKeys = ["AccountKey", "SharedAccessSignature", "SharedAccessKey"];

    /// <summary><paramref name="text"/> with every secret of <paramref name="connectionString"/> (the whole string, its
    /// key and SAS values) and every <c>AccountKey=</c>/<c>SharedAccessSignature=</c>/<c>sig=</c> value masked.</summary>
    public static string Redact(string text, string? connectionString)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            text = text.Replace(connectionString, Mask, StringComparison.Ordinal);
            foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = part.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0 && SecretKeys.Contains(part[..equals].Trim(), StringComparer.OrdinalIgnoreCase) && part[(equals + 1)..] is { Length: > 0 } value)
                {
                    text = text.Replace(value, Mask, StringComparison.Ordinal);
                }
            }
        }

        return SecretAssignment().Replace(text, m => $"{m.Groups["name"].Value}={Mask}");
    }

    /// <summary>A URL for a message: user information and query string (a SAS) masked.</summary>
    public static string RedactUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var query = url.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            url = url[..(query + 1)] + Mask;
        }

        return UserInfo().Replace(url, $"//{Mask}@");
    }

    [GeneratedRegex(@"(?<name>AccountKey|SharedAccessSignature|SharedAccessKey|sig)=[^;&\s""']*", RegexOptions.IgnoreCase)]
    private static partial Regex SecretAssignment();

    [GeneratedRegex("//[^/?#@]*@")]
    private static partial Regex UserInfo();
}

/// <summary>Checks <see cref="StorageOptions"/>'s data annotations with code generated at compile time (no reflection at start-up).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class StorageOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<StorageOptions>;
