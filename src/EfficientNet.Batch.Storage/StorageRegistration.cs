using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// Registers <see cref="IStorageResolver"/> and <see cref="DatasetReader"/> (singletons) and binds
    /// <see cref="StorageOptions"/> from the <c>Storage</c> section, validated when the host starts.
    /// </summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
            {
                if (string.IsNullOrWhiteSpace(options.AzureConnectionString) && string.IsNullOrWhiteSpace(options.AccountUrl))
                {
                    // The variable every Azure tool honours; hosts usually see it through configuration already. Not
                    // read when Storage:AccountUrl chooses an identity instead of a key.
                    options.AzureConnectionString = configuration[StorageOptions.ConnectionStringEnvironmentVariable]
                                                    ?? Environment.GetEnvironmentVariable(StorageOptions.ConnectionStringEnvironmentVariable);
                }
            })
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsAnnotationsValidator>());
        builder.Services.TryAddSingleton<IStorageResolver, StorageResolver>();
        builder.Services.TryAddSingleton<DatasetReader>();
        return builder;
    }
}
