using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The chart in a real cluster: values checked against values.schema.json, one key per setting, restarts only
/// where configuration changed, threads that follow the CPU limit, scheduling options and KEDA's scale-in.</summary>
public sealed partial class ChartOperationsTests
{
    private const string GpuSizingSection = "## GPU workers: the decode-bound arithmetic";

    [Fact]
    public void A_value_of_the_wrong_type_is_refused_naming_the_key()
    {
        var (documents, error) = Helm.Template(Helm.Values(("worker.replicaCount", "many")));

        Assert.Null(documents);
        Assert.Contains("worker.replicaCount", error, StringComparison.Ordinal);
        Assert.Contains("integer", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_value_is_refused_instead_of_ignored()
    {
        var (documents, error) = Helm.Template(Helm.Values(), "workers.replicaCount=3");

        Assert.Null(documents);
        Assert.Contains("workers", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_the_chart_also_sets_is_rendered_once_with_the_value_given()
    {
        var (text, error) = Helm.TemplateText(Helm.Values(("worker.config.Inference__Device", "Cuda"), ("config.Models__Directory", "/cache")));
        Assert.True(text is not null, error);
        var workerMap = text.Split("\n---").Single(d => d.Contains("kind: ConfigMap", StringComparison.Ordinal) && d.Contains("name: effnet-efficientnet-batch-worker\n", StringComparison.Ordinal));
        Assert.Single(Regex.Matches(workerMap, @"^\s*Inference__Device:", RegexOptions.Multiline));

        // YamlDotNet refuses a mapping with a repeated key, so parsing the whole rendering is itself the check.
        var data = Helm.Render(Helm.Values(("worker.config.Inference__Device", "Cuda"), ("config.Models__Directory", "/cache")))
            .Single("ConfigMap", "-worker").Map("data").Strings();
        Assert.Equal("Cuda", data["Inference__Device"]);
        Assert.Equal("/cache", data["Models__Directory"]);
    }

    [Fact]
    public void Auth_settings_come_from_the_auth_values_only()
    {
        var data = Helm.Render(Helm.Values(("auth.allowAnonymous", "false"), ("auth.existingSecret", "keys"), ("coordinator.config.Auth__AllowAnonymous", "true")))
            .Single("ConfigMap", "-coordinator").Map("data").Strings();

        Assert.Equal("false", data["Auth__AllowAnonymous"]);
    }

    [Fact]
    public void A_worker_only_change_restarts_the_workers_and_not_the_coordinator()
    {
        var before = Helm.Render(Helm.Values());
        var after = Helm.Render(Helm.Values(("worker.config.Inference__BatchSize", "16")));
        var coordinatorChange = Helm.Render(Helm.Values(("coordinator.config.Coordinator__DefaultShardSize", "512")));

        Assert.Equal(Checksum(before, "-coordinator"), Checksum(after, "-coordinator"));
        Assert.NotEqual(Checksum(before, "-worker"), Checksum(after, "-worker"));
        Assert.Equal(Checksum(before, "-worker"), Checksum(coordinatorChange, "-worker"));
        Assert.NotEqual(Checksum(before, "-coordinator"), Checksum(coordinatorChange, "-coordinator"));
    }

    [Theory]
    [InlineData("4", "4")]
    [InlineData("3500m", "3")]
    [InlineData("500m", "1")]
    public void A_worker_cpu_limit_sets_decode_parallelism_and_onnx_runtime_threads(string limit, string threads)
    {
        var data = Helm.Render(Helm.Values(("worker.resources.limits.cpu", limit))).Single("ConfigMap", "-worker").Map("data").Strings();

        Assert.Equal(threads, data["Worker__DecodeParallelism"]);
        Assert.Equal(threads, data["Inference__IntraOpThreads"]);
        Assert.Null(OptionsCatalogue.Instance.ProblemWith("Worker__DecodeParallelism"));
        Assert.Null(OptionsCatalogue.Instance.ProblemWith("Inference__IntraOpThreads"));
    }

    [Fact]
    public void Gpu_workers_get_the_cpu_threads_and_batch_size_the_decode_bound_arithmetic_documents()
    {
        var documented = GpuWorkerDefaults();
        Assert.True(documented.Count >= 5, $"only {documented.Count} rows were read from {GpuSizingSection} in docs/benchmarks.md");

        var documents = Helm.Render(Helm.Values(), "worker.gpu.enabled=true");
        var resources = Container(documents, "-worker").Map("resources");
        var data = documents.Single("ConfigMap", "-worker").Map("data").Strings();
        foreach (var (key, value) in documented)
        {
            var rendered = key.StartsWith("worker.gpu.resources.", StringComparison.Ordinal)
                ? resources.Map(key.Split('.')[3]).Text(key.Split('.')[4])
                : data.GetValueOrDefault(key);
            Assert.True(value == rendered, $"{key}: docs/benchmarks.md says {value}, the chart renders {rendered ?? "nothing"}");
        }

        // Decoders take the whole limit; ONNX Runtime's CPU pool, idle while the GPU runs the network, is one thread.
        Assert.Equal(resources.Map("limits").Text("cpu"), data["Worker__DecodeParallelism"]);
        Assert.Equal(resources.Map("requests").Text("cpu"), resources.Map("limits").Text("cpu"));
        Assert.Equal("1", resources.Map("limits").Text("nvidia.com/gpu"));
        Assert.Equal("Cuda", data["Inference__Device"]);
        var environment = new Dictionary<string, string>(data, StringComparer.Ordinal)
        {
            ["Messaging__RabbitMqUri"] = "amqp://effnet:secret@rabbitmq.example:5672/",
            ["Storage__AzureConnectionString"] = "UseDevelopmentStorage=true",
        };
        Assert.Empty(HostConfiguration.WorkerProblems(environment));

        // CPU workers keep their own: worker.resources, the worker's batch-size default (stated once, in
        // InferenceOptions), nothing derived without a CPU limit; worker.batchSize sets it.
        var cpuDocuments = Helm.Render(Helm.Values());
        Assert.Null(Container(cpuDocuments, "-worker").Map("resources").Map("limits").Find("cpu"));
        Assert.False(cpuDocuments.Single("ConfigMap", "-worker").Map("data").Strings().ContainsKey("Inference__BatchSize"));
        var sized = Helm.Render(Helm.Values(), "worker.batchSize=12");
        Assert.Equal("12", sized.Single("ConfigMap", "-worker").Map("data").Strings()["Inference__BatchSize"]);
    }

    [Fact]
    public void A_gpu_worker_cpu_limit_sets_its_decoders_and_worker_config_still_wins()
    {
        var data = Helm.Render(
                Helm.Values(("worker.gpu.resources.requests.cpu", "3500m"), ("worker.gpu.resources.limits.cpu", "3500m"), ("worker.config.Inference__BatchSize", "128")),
                "worker.gpu.enabled=true")
            .Single("ConfigMap", "-worker").Map("data").Strings();

        Assert.Equal("3", data["Worker__DecodeParallelism"]);
        Assert.Equal("1", data["Inference__IntraOpThreads"]);
        Assert.Equal("128", data["Inference__BatchSize"]);
    }

    [Fact]
    public void Without_a_cpu_limit_the_runtimes_choose_and_an_explicit_setting_beats_the_limit()
    {
        var unlimited = Helm.Render(Helm.Values()).Single("ConfigMap", "-worker").Map("data").Strings();
        Assert.DoesNotContain("Worker__DecodeParallelism", unlimited.Keys);
        Assert.DoesNotContain("Inference__IntraOpThreads", unlimited.Keys);

        var chosen = Helm.Render(Helm.Values(("worker.resources.limits.cpu", "8"), ("worker.config.Inference__IntraOpThreads", "6")))
            .Single("ConfigMap", "-worker").Map("data").Strings();
        Assert.Equal("6", chosen["Inference__IntraOpThreads"]);
        Assert.Equal("8", chosen["Worker__DecodeParallelism"]);
    }

    [Fact]
    public void Gpu_workers_get_the_runtime_class_and_every_pod_its_priority_and_spread()
    {
        var documents = Helm.Render(
            Helm.Values(("worker.gpu.runtimeClassName", "nvidia"), ("worker.priorityClassName", "batch-low"), ("coordinator.priorityClassName", "batch-high")),
            "worker.gpu.enabled=true",
            "worker.topologySpreadConstraints[0].maxSkew=1",
            "worker.topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
            "worker.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway");
        var worker = PodSpec(documents, "-worker");
        Assert.Equal("nvidia", worker.Text("runtimeClassName"));
        Assert.Equal("batch-low", worker.Text("priorityClassName"));
        Assert.Equal("batch-high", PodSpec(documents, "-coordinator").Text("priorityClassName"));
        var spread = (YamlMappingNode)Assert.Single(((YamlSequenceNode)worker.Find("topologySpreadConstraints")!).Children);
        Assert.Equal("topology.kubernetes.io/zone", spread.Text("topologyKey"));
        // Filled in: the constraint counts this release's workers.
        Assert.Equal(
            documents.Single("Deployment", "-worker").Map("spec").Map("selector").Map("matchLabels").Strings(),
            spread.Map("labelSelector").Map("matchLabels").Strings());

        var cpuWorker = PodSpec(Helm.Render(Helm.Values(("worker.gpu.runtimeClassName", "nvidia"))), "-worker");
        Assert.Null(cpuWorker.Find("runtimeClassName"));
        Assert.Null(cpuWorker.Find("topologySpreadConstraints"));
    }

    [Fact]
    public void Keda_falls_back_to_a_fixed_count_and_scales_in_one_worker_at_a_time()
    {
        var scaledObject = Helm.Render(Helm.Values(), "worker.autoscaling.keda.enabled=true").Single("ScaledObject", "-worker").Map("spec");

        var fallback = scaledObject.Map("fallback");
        Assert.Equal("3", fallback.Text("failureThreshold"));
        Assert.Equal("2", fallback.Text("replicas"));
        var scaleDown = scaledObject.Map("advanced").Map("horizontalPodAutoscalerConfig").Map("behavior").Map("scaleDown");
        Assert.True(int.Parse(scaleDown.Text("stabilizationWindowSeconds")!, System.Globalization.CultureInfo.InvariantCulture) >= ChartValues.Integer(ChartValues.Worker, "terminationGracePeriodSeconds"));
        var policy = (YamlMappingNode)Assert.Single(((YamlSequenceNode)scaleDown.Find("policies")!).Children);
        Assert.Equal("Pods", policy.Text("type"));
        Assert.Equal("1", policy.Text("value"));
    }

    [Fact]
    public void The_service_monitor_scrapes_the_collector_the_pods_export_to_and_needs_to_be_told_which()
    {
        var (refused, error) = Helm.Template(Helm.Values(), "metrics.serviceMonitor.enabled=true");
        Assert.Null(refused);
        Assert.Contains("metrics.collector.selector", error, StringComparison.Ordinal);

        var monitor = Helm.Render(
                Helm.Values(("metrics.collector.namespace", "observability"), ("metrics.collector.selector.app\\.kubernetes\\.io/name", "otel-collector")),
                "metrics.serviceMonitor.enabled=true")
            .Single("ServiceMonitor", "").Map("spec");
        Assert.Equal("otel-collector", monitor.Map("selector").Map("matchLabels").Text("app.kubernetes.io/name"));
        Assert.Equal("observability", ((YamlSequenceNode)monitor.Map("namespaceSelector").Find("matchNames")!).Children[0].ToString());
        var endpoint = (YamlMappingNode)Assert.Single(((YamlSequenceNode)monitor.Find("endpoints")!).Children);
        Assert.Equal(ChartValues.Root.Map("metrics").Map("collector").Text("port"), endpoint.Text("port"));
        Assert.Equal("true", endpoint.Text("honorLabels"));
        // The hosts serve no metrics endpoint of their own: nothing may point Prometheus at them.
        Assert.DoesNotContain("/metrics", Repository.ChartTemplate("worker-deployment.yaml") + Repository.ChartTemplate("coordinator-deployment.yaml"), StringComparison.Ordinal);
    }

    private static string Checksum(IReadOnlyList<YamlMappingNode> documents, string component) =>
        documents.Single("Deployment", component).Map("spec").Map("template").Map("metadata").Map("annotations").Text("checksum/config")!;

    private static YamlMappingNode PodSpec(IReadOnlyList<YamlMappingNode> documents, string component) =>
        documents.Single("Deployment", component).Map("spec").Map("template").Map("spec");

    private static YamlMappingNode Container(IReadOnlyList<YamlMappingNode> documents, string component) =>
        (YamlMappingNode)((YamlSequenceNode)PodSpec(documents, component).Find("containers")!).Children[0];

    /// <summary>The table of chart defaults in docs/benchmarks.md's GPU sizing section: (value or setting, default).</summary>
    private static List<(string Key, string Value)> GpuWorkerDefaults()
    {
        var doc = Repository.Read("docs/benchmarks.md");
        var start = doc.IndexOf(GpuSizingSection, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/benchmarks.md has no section '{GpuSizingSection}'");
        var end = doc.IndexOf("\n## ", start + GpuSizingSection.Length, StringComparison.Ordinal);
        var section = doc[start..(end < 0 ? doc.Length : end)];
        return [.. DefaultRow().Matches(section).Select(m => (m.Groups["key"].Value, m.Groups["value"].Value))];
    }

    [GeneratedRegex(@"^\| `(?<key>worker\.gpu\.resources\.(requests|limits)\.cpu|[A-Za-z]+__[A-Za-z]+)`[^|]*\| `(?<value>[^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex DefaultRow();
}
