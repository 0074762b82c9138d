using System.Globalization;
using System.Text.RegularExpressions;
using EfficientNet.Batch.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The configuration compose and the chart hand each host binds into the real options and passes the checks
/// the host runs at start, so the deployment does not stop with a validation error on its first start.</summary>
public sealed partial class HostConfigurationTests
{
    // The chart takes these from its Secret; the values stand in for what an operator provides.
    private static readonly Dictionary<string, string> SecretStandIns = new(StringComparer.Ordinal)
    {
        ["Messaging__RabbitMqUri"] = "amqp://effnet:secret@rabbitmq.example:5672/",
        ["Storage__AzureConnectionString"] = "UseDevelopmentStorage=true",
    };

    [Fact]
    public void Compose_gives_the_coordinator_a_configuration_it_starts_with() =>
        Assert.Empty(HostConfiguration.CoordinatorProblems(Compose.Environment(Compose.Coordinator)));

    [Theory]
    [InlineData(Compose.Worker)]
    [InlineData(Compose.GpuWorker)]
    public void Compose_gives_workers_a_configuration_they_start_with(string service) =>
        Assert.Empty(HostConfiguration.WorkerProblems(Compose.Environment(service)));

    [Fact]
    public void Chart_values_give_the_coordinator_a_configuration_it_starts_with()
    {
        Assert.Equal(SecretStandIns.Keys.Order(StringComparer.Ordinal), SecretKeys());
        // The chart refuses to render without credentials (ChartRenderingTests); an API key from its auth Secret stands in.
        var apiKey = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Auth__ApiKeys__0__Name"] = "ci",
            ["Auth__ApiKeys__0__Sha256"] = new string('a', 64),
            ["Auth__ApiKeys__0__Scopes__0"] = "admin",
        };
        var environment = Merge(ChartValues.CoordinatorConfig, ChartValues.SharedConfig, SecretStandIns, apiKey);

        Assert.Empty(HostConfiguration.CoordinatorProblems(environment));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Chart_values_give_workers_a_configuration_they_start_with(bool gpu)
    {
        var (cudaDevice, cpuDevice) = ChartInferenceDevices();
        var chartSet = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Inference__Device"] = gpu ? cudaDevice : cpuDevice,
            ["Models__Directory"] = ChartValues.Worker.Map("modelCache").Text("path")!,
            ["DOTNET_shutdownTimeoutSeconds"] = ChartValues.Worker.Text("shutdownTimeoutSeconds")!,
        };
        // The ConfigMap would hold these keys twice.
        Assert.DoesNotContain(ChartValues.WorkerConfig.Keys, chartSet.ContainsKey);
        var environment = Merge(ChartValues.WorkerConfig, ChartValues.SharedConfig, chartSet, SecretStandIns);

        Assert.Empty(HostConfiguration.WorkerProblems(environment));
    }

    [Fact]
    public void Gpu_workers_demand_cuda_and_cpu_workers_stay_on_the_cpu()
    {
        Assert.Equal(InferenceDevice.Cpu, HostConfiguration.Inference(Compose.Environment(Compose.Worker)).Device);
        Assert.Equal(InferenceDevice.Cuda, HostConfiguration.Inference(Compose.Environment(Compose.GpuWorker)).Device);

        var (cudaDevice, cpuDevice) = ChartInferenceDevices();
        Assert.Equal(InferenceDevice.Cuda, HostConfiguration.Inference(new Dictionary<string, string> { ["Inference__Device"] = cudaDevice }).Device);
        Assert.Equal(InferenceDevice.Cpu, HostConfiguration.Inference(new Dictionary<string, string> { ["Inference__Device"] = cpuDevice }).Device);
    }

    [Fact]
    public void A_stopping_worker_has_time_to_finish_its_shard_before_it_is_killed()
    {
        var environment = Compose.Environment(Compose.Worker);
        var variable = Assert.Single(environment.Keys, k => k.EndsWith("shutdownTimeoutSeconds", StringComparison.OrdinalIgnoreCase));
        var shutdownTimeout = ShutdownTimeoutOfAHostGiven(variable, environment[variable]);
        // Longer than .NET's 30 s default, or setting it would be pointless.
        Assert.True(shutdownTimeout > TimeSpan.FromSeconds(30), $"{variable}={environment[variable]} gives {shutdownTimeout}");

        foreach (var service in new[] { Compose.Worker, Compose.GpuWorker })
        {
            Assert.Equal(environment[variable], Compose.Environment(service)[variable]);
            var gracePeriod = ComposeDuration(Compose.Service(service).Text("stop_grace_period") ?? "10s");
            Assert.True(gracePeriod > shutdownTimeout, $"{service}: stop_grace_period {gracePeriod} <= shutdown timeout {shutdownTimeout}");
        }

        // The chart: the same variable from worker.shutdownTimeoutSeconds, a longer terminationGracePeriodSeconds.
        Assert.Matches(
            $@"\n\s*{Regex.Escape(variable)}:\s*\{{\{{\s*\.Values\.worker\.shutdownTimeoutSeconds\b",
            Repository.ChartTemplate("configmap.yaml"));
        Assert.Matches(
            @"\n\s*terminationGracePeriodSeconds:\s*\{\{\s*\.Values\.worker\.terminationGracePeriodSeconds\s*\}\}",
            Repository.ChartTemplate("worker-deployment.yaml"));
        var chartTimeout = ChartValues.Integer(ChartValues.Worker, "shutdownTimeoutSeconds");
        var chartGrace = ChartValues.Integer(ChartValues.Worker, "terminationGracePeriodSeconds");
        Assert.True(chartTimeout > 30, $"worker.shutdownTimeoutSeconds {chartTimeout}");
        Assert.True(chartGrace > chartTimeout, $"worker.terminationGracePeriodSeconds {chartGrace} <= shutdownTimeoutSeconds {chartTimeout}");
    }

    /// <summary>The shutdown timeout of a host built like ours (WebApplication.CreateBuilder) with the variable set.
    /// No other test reads this variable, so setting it for the process is safe.</summary>
    private static TimeSpan ShutdownTimeoutOfAHostGiven(string variable, string value)
    {
        Environment.SetEnvironmentVariable(variable, value);
        try
        {
            using var app = WebApplication.CreateBuilder().Build();
            return app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>The two values the worker ConfigMap gives Inference__Device: (GPU enabled, GPU disabled).</summary>
    private static (string Gpu, string Cpu) ChartInferenceDevices()
    {
        var match = DeviceFromGpuFlag().Match(Repository.ChartTemplate("configmap.yaml"));
        Assert.True(match.Success, "The worker ConfigMap does not set Inference__Device from worker.gpu.enabled.");
        return (match.Groups["gpu"].Value, match.Groups["cpu"].Value);
    }

    private static IReadOnlyList<string> SecretKeys() =>
        [.. SecretKey().Matches(Repository.ChartTemplate("secret.yaml")).Select(m => m.Groups["key"].Value).Order(StringComparer.Ordinal)];

    private static Dictionary<string, string> Merge(params IReadOnlyDictionary<string, string>[] sources)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in sources.SelectMany(s => s))
        {
            merged.TryAdd(pair.Key, pair.Value);
        }

        return merged;
    }

    /// <summary>Compose durations: "330s", "5m30s", "1h".</summary>
    private static TimeSpan ComposeDuration(string text)
    {
        var parts = DurationPart().Matches(text);
        Assert.True(parts.Sum(p => p.Length) == text.Length, $"Unreadable duration '{text}'.");
        return parts.Aggregate(TimeSpan.Zero, (total, part) =>
        {
            var amount = int.Parse(part.Groups["amount"].Value, CultureInfo.InvariantCulture);
            return total + part.Groups["unit"].Value switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromSeconds(amount),
            };
        });
    }

    [GeneratedRegex(@"Inference__Device:\s*\{\{\s*ternary\s+""(?<gpu>\w+)""\s+""(?<cpu>\w+)""\s+\.Values\.worker\.gpu\.enabled\b")]
    private static partial Regex DeviceFromGpuFlag();

    [GeneratedRegex(@"^\s+(?<key>[A-Za-z]\w*__\w+):", RegexOptions.Multiline)]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"(?<amount>\d+)(?<unit>h|m|s)")]
    private static partial Regex DurationPart();
}
