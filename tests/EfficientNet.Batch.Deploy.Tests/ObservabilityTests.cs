using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The Grafana dashboard and the alerts read series the hosts really emit, and compose wires the hosts, the
/// collector, Prometheus, Grafana and Jaeger together.</summary>
public sealed class ObservabilityTests
{
    private const string ComposeDashboard = "deploy/observability/grafana/dashboards/effnet.json";
    private const string ChartDashboard = $"{Repository.ChartFolder}/dashboards/effnet.json";
    private static readonly string[] OwnPrefixes = ["effnet_", "dotnet_"];

    /// <summary>The series the dashboard and the alerts may read from exporters outside the code, by exporter. The code's
    /// own series are checked against its instruments instead; a name from anywhere else fails.</summary>
    private static readonly Dictionary<string, string[]> ExternalSeries = new(StringComparer.Ordinal)
    {
        // RabbitMQ's rabbitmq_prometheus plugin, per queue (/metrics/per-object).
        ["rabbitmq"] = ["rabbitmq_queue_messages", "rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked", "rabbitmq_queue_consumers"],
        // NVIDIA's DCGM exporter (compose profile gpu; in a cluster the GPU operator's): the hosts emit no GPU metric.
        // Names from its default counters (dcgm-exporter etc/default-counters.csv), which every install exports.
        ["dcgm-exporter"] = ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"],
        // kube-state-metrics (alerts only).
        ["kube-state-metrics"] = ["kube_deployment_status_replicas_unavailable"],
    };

    [Fact]
    public void The_dashboard_is_json_with_prometheus_queries_in_every_panel()
    {
        var panels = Panels().ToList();

        Assert.True(panels.Count >= 10, $"{panels.Count} panels");
        foreach (var panel in panels)
        {
            var targets = panel["targets"]!.AsArray();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace((string?)t!["expr"]), $"panel '{panel["title"]}' has a target without a query"));
            Assert.Equal("prometheus", (string?)panel["datasource"]!["type"]);
        }
    }

    [Fact]
    public void Every_effnet_and_runtime_metric_the_dashboard_queries_is_one_the_code_emits()
    {
        var queried = Panels().SelectMany(p => p["targets"]!.AsArray()).SelectMany(t => PrometheusNames.In((string)t!["expr"]!, OwnPrefixes)).ToHashSet(StringComparer.Ordinal);

        Assert.Empty(Unknown(queried));
        // What an operator watches (issue #15): each of these instruments has a panel.
        var instruments = queried.Select(q => PrometheusNames.Series[q]).ToHashSet(StringComparer.Ordinal);
        foreach (var instrument in new[]
                 {
                     "effnet.images.processed", "effnet.images.errors", "effnet.shard.duration", "effnet.shard.queue_wait",
                     "effnet.jobs.completed", "effnet.inference.duration", "effnet.decode.duration", "effnet.batch.size", "dotnet.process.cpu.time",
                 })
        {
            Assert.Contains(instrument, instruments);
        }
    }

    [Fact]
    public void Every_other_metric_the_dashboard_and_the_alerts_query_comes_from_a_known_exporter()
    {
        var dashboard = Panels().SelectMany(p => p["targets"]!.AsArray()).Select(t => (string)t!["expr"]!);
        var alerts = Rules().Select(r => r.Text("expr")!);

        var unknown = dashboard.Concat(alerts).SelectMany(PrometheusNames.Metrics)
            .Where(name => !OwnPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            .Where(name => !ExternalSeries.Values.Any(names => names.Contains(name)))
            .Distinct(StringComparer.Ordinal);

        Assert.Empty(unknown);
        // The reading itself: functions, aggregations, keywords and labels are not metrics; a misspelt one is caught.
        Assert.Equal(["DCGM_FI_DEV_GPU_UTILIZATION"], PrometheusNames.Metrics("avg by (gpu) (DCGM_FI_DEV_GPU_UTILIZATION{pod=~\"x.*\"}) > 0 and on() vector(1)"));
        Assert.Equal(["rabbitmq_queue_messages_ready", "effnet_images_processed_total"], PrometheusNames.Metrics("sum(rabbitmq_queue_messages_ready) and sum(rate(effnet_images_processed_total[$__rate_interval]))"));
    }

    [Fact]
    public void The_dashboard_shows_the_workers_cpu_and_the_gpus_utilisation_and_memory()
    {
        var byTitle = Panels().ToDictionary(p => (string)p["title"]!, p => p["targets"]!.AsArray().Select(t => (string)t!["expr"]!).ToList(), StringComparer.Ordinal);

        Assert.Contains(byTitle["Worker CPU"], e => e.Contains("dotnet_process_cpu_time_seconds_total", StringComparison.Ordinal));
        Assert.Contains(byTitle["GPU utilisation"], e => PrometheusNames.Metrics(e).Contains("DCGM_FI_DEV_GPU_UTIL"));
        Assert.Contains(byTitle["GPU memory used"], e => PrometheusNames.Metrics(e).SequenceEqual(["DCGM_FI_DEV_FB_USED"]));
    }

    [Fact]
    public void Compose_starts_the_dcgm_exporter_with_the_gpu_workers_and_prometheus_scrapes_it()
    {
        var exporter = Compose.Service("dcgm-exporter");
        Assert.StartsWith("nvcr.io/nvidia/k8s/dcgm-exporter:", exporter.Text("image"), StringComparison.Ordinal);
        // Only where GPU workers run: the same profile as the first GPU worker, so a CPU-only `docker compose up` does
        // not start a container that needs the NVIDIA runtime.
        Assert.Equal(Profiles(Compose.GpuWorker), Profiles("dcgm-exporter"));
        var device = (YamlMappingNode)Assert.Single(((YamlSequenceNode)exporter.Map("deploy").Map("resources").Map("reservations").Find("devices")!).Children);
        Assert.Equal("nvidia", device.Text("driver"));
        Assert.Equal("all", device.Text("count"));

        var scrapes = ((YamlSequenceNode)ConfigMountedBy("prometheus", "/etc/prometheus/prometheus.yml").Find("scrape_configs")!).Children.Cast<YamlMappingNode>();
        var dcgm = scrapes.Single(s => s.Text("job_name") == "dcgm-exporter");
        Assert.Equal("dcgm-exporter:9400", ((YamlMappingNode)((YamlSequenceNode)dcgm.Find("static_configs")!).Children[0]).Find("targets").Joined());
    }

    [Fact]
    public void A_misspelt_or_unsuffixed_metric_is_caught()
    {
        // The check that guards the dashboard: it must not pass names the exporter never produces.
        Assert.Equal(["effnet_image_processed_total"], Unknown(PrometheusNames.In("sum(rate(effnet_image_processed_total[5m]))", OwnPrefixes)));
        Assert.Equal(["effnet_inference_duration_bucket"], Unknown(PrometheusNames.In("histogram_quantile(0.9, rate(effnet_inference_duration_bucket[5m]))", OwnPrefixes)));
        Assert.Equal(["effnet_images_processed"], Unknown(PrometheusNames.In("rate(effnet_images_processed[5m])", OwnPrefixes)));
        Assert.Empty(Unknown(PrometheusNames.In("rate(effnet_shard_queue_wait_seconds_count[5m])", OwnPrefixes)));
    }

    [Fact]
    public void The_chart_carries_the_compose_dashboard_unchanged_and_labels_it_for_the_grafana_sidecar()
    {
        Assert.Equal(Repository.Read(ComposeDashboard), Repository.Read(ChartDashboard));

        var documents = Helm.Render(Helm.Values(), "metrics.dashboard.enabled=true");
        var configMap = documents.Single("ConfigMap", "-dashboard");
        Assert.Equal("1", configMap.Map("metadata").Map("labels").Text("grafana_dashboard"));
        Assert.Equal(Repository.Read(ChartDashboard).TrimEnd('\n'), configMap.Map("data").Text("effnet.json"));
        Assert.DoesNotContain(Helm.Render(Helm.Values()), d => d.Text("kind") == "ConfigMap" && d.Map("metadata").Text("name")!.EndsWith("-dashboard", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_alert_reads_emitted_metrics_and_says_what_happened()
    {
        var documents = Helm.Render(Helm.Values(), "metrics.rules.enabled=true");
        var rules = Rules(documents);

        Assert.Equal(["EffnetJobStuck", "EffnetHighErrorRate", "EffnetQueueWithoutConsumers", "EffnetWorkersNotReady"], rules.Select(r => r.Text("alert")));
        foreach (var rule in rules)
        {
            var annotations = rule.Map("annotations");
            Assert.False(string.IsNullOrWhiteSpace(annotations.Text("summary")), rule.Text("alert"));
            Assert.False(string.IsNullOrWhiteSpace(annotations.Text("description")), rule.Text("alert"));
            Assert.Empty(Unknown(PrometheusNames.In(rule.Text("expr")!, OwnPrefixes)));
        }

        // The workers' queue and Deployment, by their real names.
        Assert.Contains($"queue=\"{Components.Messaging.QueueNames.ClassifyShard}\"", rules[2].Text("expr"), StringComparison.Ordinal);
        var workers = documents.Single("Deployment", "-worker").Map("metadata").Text("name");
        Assert.Contains($"deployment=\"{workers}\"", rules[3].Text("expr"), StringComparison.Ordinal);
        Assert.Contains("kube_deployment_status_replicas_unavailable", rules[3].Text("expr"), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_hosts_export_to_the_collector_which_feeds_prometheus_and_jaeger()
    {
        foreach (var host in Compose.HostServices)
        {
            Assert.Equal("${OTEL_EXPORTER_OTLP_ENDPOINT-http://otel-collector:4317}", Compose.Environment(host)["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        }

        var collector = ConfigMountedBy("otel-collector", "/etc/otelcol-contrib/config.yaml");
        var otlp = collector.Map("receivers").Map("otlp").Map("protocols");
        Assert.EndsWith(":4317", otlp.Map("grpc").Text("endpoint"), StringComparison.Ordinal);
        Assert.EndsWith(":4318", otlp.Map("http").Text("endpoint"), StringComparison.Ordinal);
        var exporters = collector.Map("exporters");
        var prometheusPort = exporters.Map("prometheus").Text("endpoint")!.Split(':')[^1];
        Assert.Equal("true", exporters.Map("prometheus").Text("add_metric_suffixes"));
        Assert.Equal("jaeger:4317", exporters.Map("otlp/jaeger").Text("endpoint"));
        var pipelines = collector.Map("service").Map("pipelines");
        Assert.Equal("prometheus", pipelines.Map("metrics").Find("exporters").Joined());
        Assert.Equal("otlp/jaeger", pipelines.Map("traces").Find("exporters").Joined());
        Assert.Equal("true", Compose.Environment("jaeger")["COLLECTOR_OTLP_ENABLED"]);

        // Prometheus scrapes the exporter (keeping its job and instance labels) and RabbitMQ's plugin, per queue.
        var scrapes = ((YamlSequenceNode)ConfigMountedBy("prometheus", "/etc/prometheus/prometheus.yml").Find("scrape_configs")!).Children.Cast<YamlMappingNode>().ToList();
        var targets = scrapes.ToDictionary(s => s.Text("job_name")!, s => ((YamlMappingNode)((YamlSequenceNode)s.Find("static_configs")!).Children[0]).Find("targets").Joined());
        Assert.Equal($"otel-collector:{prometheusPort}", targets["otel-collector"]);
        Assert.Equal("true", scrapes.Single(s => s.Text("job_name") == "otel-collector").Text("honor_labels"));
        Assert.Equal("rabbitmq:15692", targets["rabbitmq"]);
        Assert.Equal("/metrics/per-object", scrapes.Single(s => s.Text("job_name") == "rabbitmq").Text("metrics_path"));
        var plugins = Repository.Read(MountedFile("rabbitmq", "/etc/rabbitmq/enabled_plugins"));
        Assert.Contains("rabbitmq_prometheus", plugins, StringComparison.Ordinal);
        Assert.Contains("rabbitmq_management", plugins, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_grafana_is_provisioned_with_prometheus_and_the_dashboard()
    {
        var provisioning = MountedFile("grafana", "/etc/grafana/provisioning");
        var datasources = (YamlSequenceNode)Yaml.Load($"{provisioning}/datasources/datasources.yaml").Find("datasources")!;
        var prometheus = datasources.Children.Cast<YamlMappingNode>().Single(d => d.Text("type") == "prometheus");
        Assert.Equal("http://prometheus:9090", prometheus.Text("url"));
        Assert.Contains(datasources.Children.Cast<YamlMappingNode>(), d => d.Text("type") == "jaeger" && d.Text("url") == "http://jaeger:16686");

        var provider = (YamlMappingNode)((YamlSequenceNode)Yaml.Load($"{provisioning}/dashboards/dashboards.yaml").Find("providers")!).Children[0];
        var dashboardsPath = provider.Map("options").Text("path")!;
        Assert.Equal(Path.GetDirectoryName(ComposeDashboard), MountedFile("grafana", dashboardsPath));

        foreach (var (service, port) in new[] { ("grafana", "3000"), ("prometheus", "9090"), ("jaeger", "16686") })
        {
            var published = ((YamlSequenceNode)Compose.Service(service).Find("ports")!).Children.Select(c => ((YamlScalarNode)c).Value!);
            Assert.Contains($"127.0.0.1:{port}:{port}", published);
        }
    }

    private static IEnumerable<JsonObject> Panels() =>
        JsonNode.Parse(Repository.Read(ComposeDashboard))!["panels"]!.AsArray().Select(p => p!.AsObject()).Where(p => (string?)p["type"] != "row");

    private static List<YamlMappingNode> Rules(IReadOnlyList<YamlMappingNode>? documents = null) =>
        [.. ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)(documents ?? Helm.Render(Helm.Values(), "metrics.rules.enabled=true"))
            .Single("PrometheusRule", "").Map("spec").Find("groups")!).Children[0]).Find("rules")!).Children.Cast<YamlMappingNode>()];

    private static List<string?> Profiles(string service) =>
        [.. ((YamlSequenceNode)Compose.Service(service).Find("profiles")!).Children.Select(c => ((YamlScalarNode)c).Value)];

    private static List<string> Unknown(IEnumerable<string> queried) =>
        [.. queried.Where(name => !PrometheusNames.Series.ContainsKey(name))];

    /// <summary>The repository file a compose service mounts at <paramref name="target"/>.</summary>
    private static string MountedFile(string service, string target)
    {
        var volume = ((YamlSequenceNode)Compose.Service(service).Find("volumes")!).Children.Select(c => ((YamlScalarNode)c).Value!)
            .Single(v => v.Split(':')[1] == target);
        return volume.Split(':')[0].TrimStart('.', '/');
    }

    private static YamlMappingNode ConfigMountedBy(string service, string target) => Yaml.Load(MountedFile(service, target));
}
