using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Inference;

public static class InferenceRegistration
{
    /// <summary>
    /// Binds and validates the "Inference" section (a bad value stops the host at start, naming the setting)
    /// and registers the shared <see cref="ModelSessionCache"/>.
    /// </summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<InferenceOptions>()
            .BindConfiguration(InferenceOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceOptions>, InferenceOptionsAnnotationsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceOptions>, JpegDecoderOptionsValidator>());
        // Explicit factory: the selector's other constructor is a test seam, not a dependency to resolve.
        builder.Services.TryAddSingleton(_ => new ExecutionProviderSelector());
        builder.Services.TryAddSingleton<ModelSessionCache>();
        return builder;
    }
}
