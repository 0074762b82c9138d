using EfficientNet.Batch.Components.Workers;
using System.Globalization;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

public sealed class ModelPreloaderTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("effnet-preload-").FullName;

    public void Dispose() => Directory.Delete(_models, recursive: true);

    private IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Models:Directory"] = _models });
        builder.AddWorkerComponents();
        return builder.Build();
    }

    [Fact]
    public async Task Configured_models_are_loaded_before_the_worker_reports_ready()
    {
        using var host = Build(new() { ["Worker:PreloadModels:0:Id"] = "efficientnet_b0", ["Worker:PreloadModels:0:RandomSeed"] = "4" });
        var preloader = host.Services.GetRequiredService<ModelPreloader>();
        Assert.Equal(HealthStatus.Unhealthy, (await preloader.CheckHealthAsync(new HealthCheckContext())).Status);

        await host.StartAsync();

        Assert.Equal(1, host.Services.GetRequiredService<ModelSessionCache>().Count);
        Assert.Equal(HealthStatus.Healthy, (await preloader.CheckHealthAsync(new HealthCheckContext())).Status);
        await host.StopAsync();
    }

    [Theory]
    [InlineData(5, 8, 2)]
    [InlineData(4, 4, 1)]
    [InlineData(0, 0, 0)]
    public async Task Warm_up_runs_whole_batches_of_synthetic_photos_through_decode_and_the_session(int warmUpImages, int images, int batches)
    {
        using var host = Build(new() { ["Inference:BatchSize"] = "4", ["Inference:Device"] = "Cpu", ["Worker:WarmUpImages"] = warmUpImages.ToString(CultureInfo.InvariantCulture) });
        var model = await host.Services.GetRequiredService<ModelStore>().ResolveAsync("efficientnet_b0", 4, CancellationToken.None);
        using var lease = host.Services.GetRequiredService<ModelSessionCache>().Acquire(model.OnnxPath, model.OnnxSha256);
        var session = lease.Session;

        var result = host.Services.GetRequiredService<ModelWarmUp>().Run(model, session, CancellationToken.None);

        Assert.Equal(images, result.Images);
        Assert.Equal(batches, result.Batches);
    }

    [Fact]
    public async Task A_preloaded_model_without_weights_stops_the_worker_from_starting()
    {
        using var host = Build(new() { ["Worker:PreloadModels:0:Id"] = "efficientnet_b2" });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("efficientnet_b2", error.Message, StringComparison.Ordinal);
    }
}
