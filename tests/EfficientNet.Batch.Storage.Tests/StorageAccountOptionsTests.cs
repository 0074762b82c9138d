using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Storage.Tests;

/// <summary>How the account behind <c>az://</c> is reached (a connection string or an account URL with
/// DefaultAzureCredential), and that a rejected connection string's message never quotes its secrets.</summary>
public sealed class StorageAccountOptionsTests
{
    private const string AccountUrl = "https://effnetaccount.blob.core.windows.net";

    // Base64 like a real key, unique enough that finding it anywhere means it leaked.
    private const string Key = "c2VjcmV0LWtleS1zaG91bGQtbmV2ZXItbGVhay0wMTIzNDU2Nzg5YWJjZGVm";
    private const string Signature = "q7ZkLeAkedSignatureVALUE0123456789%3D";

    [Fact]
    public void An_account_url_reaches_the_account_with_an_identity_instead_of_a_key()
    {
        var service = StorageResolver.CreateServiceClient(new StorageOptions { AccountUrl = AccountUrl });

        Assert.NotNull(service);
        Assert.Equal(new Uri(AccountUrl), service.Uri);
        // Only a shared-key client can sign SAS tokens itself: this one carries a token credential.
        Assert.False(service.CanGenerateAccountSasUri);
        var store = Assert.IsType<AzureBlobStore>(Resolver(new StorageOptions { AccountUrl = AccountUrl }).Resolve("az://datasets/cats").Store);
        Assert.Equal("az://datasets/cats/a.jpg", store.Describe("cats/a.jpg"));
    }

    [Fact]
    public void A_connection_string_with_a_key_reaches_the_account_with_the_key()
    {
        var service = StorageResolver.CreateServiceClient(new StorageOptions { AzureConnectionString = KeyConnectionString() });

        Assert.NotNull(service);
        Assert.True(service.CanGenerateAccountSasUri);
        Assert.Equal("effnetaccount", service.AccountName);
    }

    [Fact]
    public void Without_a_connection_string_or_an_account_url_there_is_no_account_and_the_error_names_both_settings()
    {
        Assert.Null(StorageResolver.CreateServiceClient(new StorageOptions()));

        var error = Assert.Throws<InvalidOperationException>(() => Resolver(new StorageOptions()).Resolve("az://datasets"));

        Assert.Contains("Storage:AzureConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:AccountUrl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_string_and_an_account_url_together_stop_the_host_naming_both_and_quoting_neither_secret()
    {
        using var host = BuildHost(new()
        {
            ["Storage:AzureConnectionString"] = KeyConnectionString(),
            ["Storage:AccountUrl"] = AccountUrl,
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Storage:AzureConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:AccountUrl", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_account_url_takes_precedence_over_the_connection_string_environment_variable()
    {
        // A developer shell often exports AZURE_STORAGE_CONNECTION_STRING; an explicit account URL must not clash with it.
        using var host = BuildHost(new()
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = KeyConnectionString(),
            ["Storage:AccountUrl"] = AccountUrl,
        });

        var options = host.Services.GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.Null(options.AzureConnectionString);
        Assert.Equal(AccountUrl, options.AccountUrl);
    }

    [Theory]
    [InlineData("https://effnetaccount.blob.core.windows.net/?sv=2024-01-01&sig=" + Signature)]
    [InlineData("https://user:" + Signature + "@effnetaccount.blob.core.windows.net")]
    [InlineData("ftp://effnetaccount.blob.core.windows.net/?sig=" + Signature)]
    public void An_unusable_account_url_is_rejected_by_name_without_quoting_its_secret_parts(string accountUrl)
    {
        var message = Assert.Single(Problems(new StorageOptions { AccountUrl = accountUrl }));

        Assert.StartsWith("Storage:AccountUrl ", message, StringComparison.Ordinal);
        Assert.DoesNotContain(Signature, message, StringComparison.Ordinal);
        Assert.Contains("effnetaccount.blob.core.windows.net", message, StringComparison.Ordinal);
    }

    /// <summary>Connection strings the SDK refuses, each with a secret in it.</summary>
    public static TheoryData<string> MalformedConnectionStrings() => new()
    {
        $"AccountKey={Key}",
        $"AccountName=effnetaccount;AccountKey={Key};BlobEndpoint=not a url",
        $"DefaultEndpointsProtocol=https;AccountName=effnetaccount;AccountKey={Key};EndpointSuffix",
        $"DefaultEndpointsProtocol=https;AccountName=effnetaccount;AccountKey={Key}=;=;Bogus={Key}",
        $"DefaultEndpointsProtocol=ftp;AccountName=effnetaccount;AccountKey={Key}",
        $"BlobEndpoint=::{Key}::;SharedAccessSignature=sv=2024-01-01&sig={Signature}",
        $"{Key}",
    };

    [Theory]
    [MemberData(nameof(MalformedConnectionStrings))]
    public async Task An_invalid_connection_string_stops_the_host_naming_the_setting_without_quoting_the_key(string connectionString)
    {
        var problem = Assert.Single(Problems(new StorageOptions { AzureConnectionString = connectionString }));
        using var host = BuildHost(new() { ["Storage:AzureConnectionString"] = connectionString });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        foreach (var message in new[] { problem, error.Message })
        {
            Assert.Contains("Storage:AzureConnectionString", message, StringComparison.Ordinal);
            Assert.DoesNotContain(Key, message, StringComparison.Ordinal);
            Assert.DoesNotContain(Signature, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Redaction_masks_keys_signatures_and_the_whole_connection_string_wherever_they_appear()
    {
        var connectionString = KeyConnectionString() + $";SharedAccessSignature=sv=2024&sig={Signature}";
        var text = $"parse failed for '{connectionString}'; key {Key}; url https://a.blob.core.windows.net/c?sv=1&sig={Signature}; " +
                   "other AccountKey=c29tZXRoaW5nIGVsc2U= end";

        var redacted = ConnectionStringRedaction.Redact(text, connectionString);

        Assert.DoesNotContain(Key, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain(Signature, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("c29tZXRoaW5nIGVsc2U=", redacted, StringComparison.Ordinal);
        Assert.Contains("https://a.blob.core.windows.net/c?sv=1&sig=***", redacted, StringComparison.Ordinal);
        Assert.EndsWith("AccountKey=*** end", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Redaction_leaves_a_text_without_secrets_alone()
    {
        const string text = "Container 'datasets' was not found at https://a.blob.core.windows.net/datasets.";

        Assert.Equal(text, ConnectionStringRedaction.Redact(text, "UseDevelopmentStorage=true"));
        Assert.Equal("https://a.blob.core.windows.net/c?***", ConnectionStringRedaction.RedactUrl("https://a.blob.core.windows.net/c?sv=1&sig=x"));
        Assert.Equal("https://***@a.blob.core.windows.net/", ConnectionStringRedaction.RedactUrl("https://u:p@a.blob.core.windows.net/"));
    }

    private static string KeyConnectionString() =>
        $"DefaultEndpointsProtocol=https;AccountName=effnetaccount;AccountKey={Key};EndpointSuffix=core.windows.net";

    private static List<string> Problems(StorageOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage!)];
    }

    private static StorageResolver Resolver(StorageOptions options) => new(Options.Create(options));

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddStorage();
        return builder.Build();
    }
}
