using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Models;

/// <summary>Section "Models".</summary>
public sealed class ModelStoreOptions
{
    public const string SectionName = "Models";

    /// <summary>Local model store; defaults to $EFFNET_MODELS, else ~/.cache/effnet/models.</summary>
    public string? Directory { get; set; }

    /// <summary>Shared model store for distributed workers (e.g. <c>az://effnet-models</c>), filled with
    /// <c>effnet models publish</c>. Workers copy a model from it into their local store, verified by hash.</summary>
    public string? RemoteLocation { get; set; }
}

public static class ModelStoreRegistration
{
    public static IHostApplicationBuilder AddModelStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelStoreOptions>().BindConfiguration(ModelStoreOptions.SectionName);
        builder.Services.AddSingleton(sp => new ModelStore(ModelStoreLocation.Resolve(sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value.Directory)));
        builder.Services.AddSingleton<SharedModelStore>();
        builder.Services.TryAddSingleton<ServedModels>();
        return builder;
    }
}
