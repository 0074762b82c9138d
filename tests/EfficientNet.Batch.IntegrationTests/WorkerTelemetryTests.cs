using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>A worker host opts out of ONNX Runtime's own telemetry at start, as <c>effnet</c> does
/// (<c>CliTests.Onnx_runtimes_own_telemetry_is_off_unless_the_operator_keeps_it</c> has the control run).</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class WorkerTelemetryTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly JobCluster _cluster = new(infrastructure, output);
    private readonly string _home = Directory.CreateTempSubdirectory("effnet-worker-home-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task A_worker_that_opened_a_model_kept_no_onnx_runtime_telemetry_cache()
    {
        var settings = OnnxRuntimeTelemetryCache.Environment(_home);
        settings["Worker__PreloadModels__0__Id"] = "efficientnet_b0";
        settings["Worker__PreloadModels__0__RandomSeed"] = "0";

        var worker = await _cluster.StartAsync(JobCluster.Worker, "worker", settings);
        // The preloaded model's session is open (ONNX Runtime initialised) once the worker names its execution provider.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!worker.Output.Contains(" runs on ", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the worker never opened its preloaded model:{Environment.NewLine}{worker.Output}");
            await Task.Delay(200);
        }

        Assert.False(OnnxRuntimeTelemetryCache.ExistsUnder(_home), "ONNX Runtime kept its telemetry cache in the worker although it opted out");
    }
}
