using System.ComponentModel.DataAnnotations;
using Azure.Storage.Blobs;

namespace EfficientNet.Batch.Storage;

/// <summary>Configuration section <c>Storage</c>.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    /// <summary>Read when <see cref="AzureConnectionString"/> is not configured.</summary>
    public const string ConnectionStringEnvironmentVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>Connection string of the account that <c>az://</c> locations refer to. Optional: without it only
    /// file-system locations resolve. Falls back to the AZURE_STORAGE_CONNECTION_STRING environment variable.</summary>
    public string? AzureConnectionString { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(AzureConnectionString))
        {
            yield break;
        }

        string? problem = null;
        try
        {
            // Parses the connection string without any network traffic.
            _ = new BlobServiceClient(AzureConnectionString);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(AzureConnectionString)} (or {ConnectionStringEnvironmentVariable}) is not a valid Azure Storage " +
                $"connection string: {problem}",
                [nameof(AzureConnectionString)]);
        }
    }
}
