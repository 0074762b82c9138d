using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

public sealed class WorkerRegistrationTests
{
    [Theory]
    [InlineData(null, ImagePreprocessor.DefaultMaxPixels)]
    [InlineData("4000000", 4_000_000L)]
    public void Inference_MaxImagePixels_is_the_limit_of_every_preprocessor_the_worker_uses(string? setting, long expected)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        if (setting is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Inference:MaxImagePixels"] = setting });
        }

        builder.AddWorkerComponents();
        using var host = builder.Build();

        var preprocessor = host.Services.GetRequiredService<PreprocessorCache>().Get(new PreprocessSpec(224, [0f, 0f, 0f], [1f, 1f, 1f]));

        Assert.Equal(expected, preprocessor.MaxPixels);
    }

    [Theory]
    [InlineData(null, 4)]
    [InlineData("1", 1)]
    [InlineData("0", 0)]
    public void Worker_MaxLoadedModels_bounds_the_session_cache(string? setting, int expected)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        if (setting is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Worker:MaxLoadedModels"] = setting });
        }

        builder.AddWorkerComponents();
        using var host = builder.Build();

        Assert.Equal(expected, host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ModelSessionCacheOptions>>().Value.MaxLoadedModels);
    }

    [Fact]
    public async Task A_negative_Worker_MaxLoadedModels_stops_the_worker_at_start_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Worker:MaxLoadedModels"] = "-1" });
        builder.AddWorkerComponents();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("MaxLoadedModels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_preloaded_model_without_an_id_stops_the_worker_at_start_naming_the_entry()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Worker:PreloadModels:0:Id"] = "efficientnet_b0",
            ["Worker:PreloadModels:1:RandomSeed"] = "3",
        });
        builder.AddWorkerComponents();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("PreloadModels[1].Id", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PreloadModels[0]", error.Message, StringComparison.Ordinal);
    }
}
