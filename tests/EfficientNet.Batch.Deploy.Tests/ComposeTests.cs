using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

public sealed class ComposeTests
{
    [Fact]
    public void Azurite_skips_the_api_version_check_and_sends_no_telemetry()
    {
        var command = Compose.Service("azurite").Find("command").Joined();

        Assert.StartsWith("azurite-blob ", command, StringComparison.Ordinal);
        Assert.Contains("--skipApiVersionCheck", command, StringComparison.Ordinal);
        Assert.Contains("--disableTelemetry", command, StringComparison.Ordinal);
        Assert.Contains("--blobHost 0.0.0.0", command, StringComparison.Ordinal);
    }

    [Fact]
    public void The_coordinator_runs_as_a_single_instance()
    {
        var coordinator = Compose.Service(Compose.Coordinator);

        Assert.Null(coordinator.Find("scale"));
        var replicas = (coordinator.Find("deploy") as YamlMappingNode)?.Text("replicas");
        Assert.True(replicas is null or "1", $"coordinator deploy.replicas is {replicas}");
    }

    [Theory]
    [InlineData(Compose.Worker)]
    [InlineData(Compose.GpuWorker)]
    [InlineData(Compose.SecondGpuWorker)]
    public void Workers_can_be_scaled_out(string service)
    {
        var worker = Compose.Service(service);

        // A fixed container name or a published port would make `--scale worker=N` fail.
        Assert.Null(worker.Find("container_name"));
        Assert.Null(worker.Find("ports"));
    }

    [Fact]
    public void Every_host_starts_after_the_broker_and_the_storage_report_healthy()
    {
        Assert.Equal([Compose.Coordinator, Compose.Worker, Compose.GpuWorker, Compose.SecondGpuWorker], Compose.HostServices);
        foreach (var dependency in new[] { "rabbitmq", "azurite" })
        {
            Assert.NotNull(Compose.Service(dependency).Find("healthcheck"));
        }

        foreach (var host in Compose.HostServices)
        {
            var dependsOn = Compose.Service(host).Map("depends_on");
            foreach (var dependency in new[] { "rabbitmq", "azurite" })
            {
                Assert.Equal("service_healthy", dependsOn.Map(dependency).Text("condition"));
            }
        }
    }

    [Theory]
    [InlineData(Compose.GpuWorker, "gpu", "0")]
    [InlineData(Compose.SecondGpuWorker, "gpu2", "1")]
    public void Gpu_workers_reserve_their_own_nvidia_gpu_and_start_only_with_their_profile(string service, string profile, string deviceId)
    {
        var gpuWorker = Compose.Service(service);
        Assert.Equal([profile], ((YamlSequenceNode)gpuWorker.Find("profiles")!).Children.Select(c => ((YamlScalarNode)c).Value));
        var device = (YamlMappingNode)Assert.Single(((YamlSequenceNode)gpuWorker.Map("deploy").Map("resources").Map("reservations").Find("devices")!).Children);
        Assert.Equal("nvidia", device.Text("driver"));
        // Pinned: with `count: 1` each worker would be handed the same first GPU.
        Assert.Null(device.Find("count"));
        Assert.Equal([deviceId], ((YamlSequenceNode)device.Find("device_ids")!).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Contains("gpu", ((YamlSequenceNode)device.Find("capabilities")!).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal(Compose.Environment(Compose.GpuWorker), Compose.Environment(service));

        // The CPU worker runs by default and asks for no GPU.
        var cpuWorker = Compose.Service(Compose.Worker);
        Assert.Null(cpuWorker.Find("profiles"));
        Assert.Null(((cpuWorker.Find("deploy") as YamlMappingNode)?.Find("resources") as YamlMappingNode)?.Find("reservations"));
    }

    [Theory]
    [InlineData(Compose.Coordinator, Repository.CoordinatorDockerfile, null)]
    [InlineData(Compose.Worker, Repository.WorkerDockerfile, "cpu")]
    [InlineData(Compose.GpuWorker, Repository.WorkerDockerfile, "gpu")]
    [InlineData(Compose.SecondGpuWorker, Repository.WorkerDockerfile, "gpu")]
    public void Hosts_build_from_the_repository_Dockerfiles_and_their_targets(string service, string dockerfile, string? target)
    {
        var build = Compose.Service(service).Map("build");

        Assert.Equal(".", build.Text("context"));
        Assert.Equal(dockerfile, build.Text("dockerfile"));
        Assert.Equal(target, build.Text("target"));
        if (target is not null)
        {
            Assert.Contains(target, Dockerfile.Stages(Dockerfile.Parse(dockerfile)));
        }
    }

    [Fact]
    public void Every_image_is_pinned_to_a_version()
    {
        foreach (var (name, service) in Compose.Services.Children.Select(p => (((YamlScalarNode)p.Key).Value, (YamlMappingNode)p.Value)))
        {
            var image = service.Text("image");
            Assert.NotNull(image);
            var tag = image.Contains(':', StringComparison.Ordinal) ? image[(image.LastIndexOf(':') + 1)..] : "";
            Assert.False(tag is "" or "latest", $"{name}: image '{image}' is not pinned to a version");
        }
    }
}
