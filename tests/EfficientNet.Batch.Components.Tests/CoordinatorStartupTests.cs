using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

public sealed class CoordinatorStartupTests
{
    private static CoordinatorOptionsValidator ValidatorWithoutAzure() =>
        new(new StorageResolver(Options.Create(new StorageOptions { AzureConnectionString = null })));

    [Fact]
    public void An_azure_location_without_a_connection_string_is_refused_naming_the_setting()
    {
        var result = ValidatorWithoutAzure().Validate(null, new CoordinatorOptions { StateLocation = "az://effnet-state", OutputLocation = Path.GetTempPath() });

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Coordinator:StateLocation 'az://effnet-state'", failure, StringComparison.Ordinal);
        Assert.Contains("AzureConnectionString", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void File_system_locations_need_no_connection_string()
    {
        var result = ValidatorWithoutAzure().Validate(null, new CoordinatorOptions { StateLocation = "state", OutputLocation = "file:///tmp/effnet-results" });

        Assert.True(result.Succeeded);
    }
}
