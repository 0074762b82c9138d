using System.Text.Json;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// <c>effnet bench system</c>: the real coordinator over a generated manifest with simulated devices, in this process
/// (in-memory) and with worker processes on RabbitMQ. Small jobs: these check that the command measures a whole job and
/// reports what the issue names; the figures at scale are in docs/benchmarks.md (scripts/bench-system.sh).
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class SystemBenchmarkCliTests(InfrastructureFixture infrastructure)
{
    private static readonly string[] ReportedFields =
        ["planSeconds", "dispatchSeconds", "mergeSeconds", "outcomesReadMs", "coordinatorPeakRssMiB", "statusP90Ms", "imagesPerSecond"];

    [Fact]
    public async Task In_memory_it_runs_one_whole_job_through_the_coordinator_and_reports_each_phase()
    {
        var report = await BenchAsync(new Dictionary<string, string>(), "--images", "3000", "--workers", "2", "--device-ms", "1", "--shard-size", "100", "--json");

        Assert.Equal(3000, report.GetProperty("images").GetInt32());
        Assert.Equal(3000, report.GetProperty("lines").GetInt64());
        Assert.Equal(30, report.GetProperty("shards").GetInt32());
        Assert.Equal("inmemory", report.GetProperty("transport").GetString());
        Assert.All(ReportedFields, field => Assert.True(report.GetProperty(field).GetDouble() > 0, $"{field} is not positive: {report}"));
        Assert.True(report.GetProperty("statusCalls").GetInt32() >= 1);
        // Two devices at 1 ms per image allow 2000 images/s: the measured rate cannot beat the devices.
        Assert.Equal(2000, report.GetProperty("deviceLimitImagesPerSecond").GetDouble());
        Assert.True(report.GetProperty("imagesPerSecond").GetDouble() <= 2000 * 1.05, report.ToString());
    }

    [Fact]
    public async Task On_rabbitmq_separate_worker_processes_classify_every_shard()
    {
        var report = await BenchAsync(
            new Dictionary<string, string> { ["RABBITMQ_URI"] = infrastructure.RabbitMqUri },
            "--transport", "rabbitmq", "--images", "1000", "--workers", "2", "--shard-size", "50", "--json");

        Assert.Equal("rabbitmq", report.GetProperty("transport").GetString());
        Assert.Equal(1000, report.GetProperty("lines").GetInt64());
        Assert.Equal(20, report.GetProperty("shards").GetInt32());
        Assert.All(ReportedFields, field => Assert.True(report.GetProperty(field).GetDouble() > 0, $"{field} is not positive: {report}"));
    }

    [Theory]
    [InlineData("--images", "0")]
    [InlineData("--workers", "0")]
    [InlineData("--shard-size", "0")]
    public async Task A_count_out_of_range_is_2_naming_the_ranges(string option, string value)
    {
        var (exitCode, _, stderr) = await Effnet.RunAsync(new Dictionary<string, string>(), "bench", "system", option, value);

        Assert.Equal(2, exitCode);
        Assert.Contains(option, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_transport_is_2()
    {
        var (exitCode, _, stderr) = await Effnet.RunAsync(new Dictionary<string, string>(), "bench", "system", "--transport", "kafka");

        Assert.Equal(2, exitCode);
        Assert.Contains("kafka", stderr, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> BenchAsync(Dictionary<string, string> environment, params string[] args)
    {
        var (exitCode, stdout, stderr) = await Effnet.RunAsync(environment, ["bench", "system", .. args]);

        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }
}
