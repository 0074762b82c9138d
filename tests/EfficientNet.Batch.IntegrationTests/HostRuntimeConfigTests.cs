using System.Text.Json.Nodes;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>What the hosts that run the classification pipeline ship in their runtimeconfig.json.</summary>
public sealed class HostRuntimeConfigTests
{
    [Theory]
    [InlineData("EfficientNet.Batch.Cli", "effnet")]
    [InlineData("EfficientNet.Batch.Worker", "EfficientNet.Batch.Worker")]
    public void Idle_thread_pool_workers_do_not_spin_beside_the_pipeline(string project, string assembly)
    {
        var properties = ConfigProperties(project, assembly);

        Assert.Equal(0, (int)properties["System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"]!);
    }

    [Fact]
    public void The_short_lived_cli_does_not_instrument_for_dynamic_pgo_while_the_worker_host_does()
    {
        Assert.False((bool)ConfigProperties("EfficientNet.Batch.Cli", "effnet")["System.Runtime.TieredPGO"]!);
        Assert.Null(ConfigProperties("EfficientNet.Batch.Worker", "EfficientNet.Batch.Worker")["System.Runtime.TieredPGO"]);
    }

    [Fact]
    public void The_short_lived_cli_emits_no_code_at_run_time_while_the_hosts_do()
    {
        // The CLI's commands, run as processes by the CLI tests, take the reflection and interpreter paths throughout.
        Assert.False((bool)ConfigProperties("EfficientNet.Batch.Cli", "effnet")["System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported"]!);
        Assert.Null(ConfigProperties("EfficientNet.Batch.Worker", "EfficientNet.Batch.Worker")["System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported"]);
        Assert.Null(ConfigProperties("EfficientNet.Batch.Coordinator", "EfficientNet.Batch.Coordinator")["System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported"]);
    }

    [Fact]
    public void A_cli_that_is_not_published_composite_keeps_tiered_compilation()
    {
        // Off only in a composite publish (scripts/publish-cli.sh), where nearly everything is precompiled; a JIT build
        // without tiering would compile every method fully optimised at start.
        Assert.Null(ConfigProperties("EfficientNet.Batch.Cli", "effnet")["System.Runtime.TieredCompilation"]);
    }

    private static JsonNode ConfigProperties(string project, string assembly)
    {
        var folder = Path.GetDirectoryName(TestPaths.HostAssembly(project))!;
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, assembly + ".runtimeconfig.json")))!;
        return config["runtimeOptions"]!["configProperties"]!;
    }
}
