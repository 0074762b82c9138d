using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class InferenceRegistrationTests
{
    [Fact]
    public async Task A_host_with_valid_settings_binds_them_and_shares_one_session_cache()
    {
        using var host = BuildHost(new() { ["Inference:Device"] = "Cpu", ["Inference:BatchSize"] = "32", ["Inference:IntraOpThreads"] = "2" });

        await host.StartAsync();

        var options = host.Services.GetRequiredService<IOptions<InferenceOptions>>().Value;
        Assert.Equal((InferenceDevice.Cpu, 32, 2), (options.Device, options.BatchSize, options.IntraOpThreads));
        Assert.Same(host.Services.GetRequiredService<ModelSessionCache>(), host.Services.GetRequiredService<ModelSessionCache>());
        await host.StopAsync();
    }

    [Fact]
    public void Defaults_are_auto_device_and_batches_of_8()
    {
        using var host = BuildHost([]);

        var options = host.Services.GetRequiredService<IOptions<InferenceOptions>>().Value;

        Assert.Equal((InferenceDevice.Auto, 8, 0), (options.Device, options.BatchSize, options.IntraOpThreads));
    }

    [Fact]
    public async Task An_invalid_setting_stops_the_host_at_start_and_names_the_setting()
    {
        using var host = BuildHost(new() { ["Inference:BatchSize"] = "0" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("BatchSize", error.Message);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddInference();
        return builder.Build();
    }
}
