using System.Text.RegularExpressions;
using EfficientNet.Batch.Components.Messaging;
using EfficientNet.Batch.Components.Workers;
using MassTransit;
using Microsoft.Extensions.Options;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

public sealed partial class ChartTests
{
    private static readonly string[] SecretSettings = ["Messaging__RabbitMqUri", "Storage__AzureConnectionString", "RABBITMQ_URI", "AZURE_STORAGE_CONNECTION_STRING"];

    [Fact]
    public void The_coordinator_is_never_scaled()
    {
        var deployment = Repository.ChartTemplate("coordinator-deployment.yaml");

        // One literal replica, no value to change it, no autoscaler aimed at it.
        Assert.Equal(["1"], ReplicasLine().Matches(deployment).Select(m => m.Groups["count"].Value));
        Assert.DoesNotContain(ChartValues.Coordinator.Children.Keys.Cast<YamlScalarNode>(), k =>
            k.Value!.Contains("replica", StringComparison.OrdinalIgnoreCase) || k.Value.Contains("autoscal", StringComparison.OrdinalIgnoreCase));
        var scaleTargets = Repository.ChartTemplates().Values.SelectMany(t => ScaleTarget().Matches(t)).Select(m => m.Groups["name"].Value.Trim()).ToList();
        Assert.NotEmpty(scaleTargets);
        Assert.All(scaleTargets, target => Assert.Equal("""{{ include "effnet.worker.fullname" . }}""", target));
    }

    [Fact]
    public void Keda_scales_the_workers_on_the_queue_they_consume()
    {
        var scaledObject = Repository.ChartTemplate("worker-scaledobject.yaml");
        IConsumerDefinition definition = new ClassifyShardConsumerDefinition(Options.Create(new WorkerOptions()));
        var consumerQueue = definition.GetEndpointName(KebabCaseEndpointNameFormatter.Instance);

        Assert.Equal(QueueNames.ClassifyShard, consumerQueue);
        Assert.Equal([consumerQueue], QueueName().Matches(scaledObject).Select(m => m.Groups["queue"].Value));
        Assert.Contains("type: rabbitmq", scaledObject, StringComparison.Ordinal);
        // KEDA reads the broker address from the key the workers read it from.
        Assert.Contains("key: Messaging__RabbitMqUri", scaledObject, StringComparison.Ordinal);
        Assert.Contains("Messaging__RabbitMqUri:", Repository.ChartTemplate("secret.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Autoscalers_render_only_when_enabled_and_then_own_the_worker_replica_count()
    {
        Assert.Contains("if $keda.enabled", TemplateText.ConditionsAt(Repository.ChartTemplate("worker-scaledobject.yaml"), "kind: ScaledObject"));
        Assert.Contains(
            "if and $hpa.enabled (not .Values.worker.autoscaling.keda.enabled)",
            TemplateText.ConditionsAt(Repository.ChartTemplate("worker-hpa.yaml"), "kind: HorizontalPodAutoscaler"));

        var worker = Repository.ChartTemplate("worker-deployment.yaml");
        Assert.Contains("$autoscaled := or .Values.worker.autoscaling.keda.enabled .Values.worker.autoscaling.hpa.enabled", worker, StringComparison.Ordinal);
        Assert.Equal(["if not $autoscaled"], TemplateText.ConditionsAt(worker, "replicas:"));
        Assert.False(ChartValues.Worker.Map("autoscaling").Map("keda").Text("enabled") == "true" &&
                     ChartValues.Worker.Map("autoscaling").Map("hpa").Text("enabled") == "true");
    }

    [Fact]
    public void Gpu_resources_and_gpu_scheduling_apply_only_when_the_gpu_is_enabled()
    {
        var worker = Repository.ChartTemplate("worker-deployment.yaml");

        Assert.Contains("{{- $gpu := .Values.worker.gpu.enabled }}", worker, StringComparison.Ordinal);
        Assert.Contains("if $gpu", TemplateText.ConditionsAt(worker, "nvidia.com/gpu"));
        Assert.Contains("if $gpu", TemplateText.ConditionsAt(worker, ".Values.worker.gpu.nodeSelector"));
        Assert.Contains("if $gpu", TemplateText.ConditionsAt(worker, ".Values.worker.gpu.tolerations"));
        Assert.Equal("false", ChartValues.Worker.Map("gpu").Text("enabled"));
    }

    [Fact]
    public void Connection_strings_reach_the_pods_only_through_the_secret()
    {
        var configured = ChartValues.SharedConfig.Keys.Concat(ChartValues.CoordinatorConfig.Keys).Concat(ChartValues.WorkerConfig.Keys);
        Assert.DoesNotContain(configured, SecretSettings.Contains);
        Assert.DoesNotContain(SecretSettings, s => Repository.ChartTemplate("configmap.yaml").Contains(s, StringComparison.Ordinal));

        Assert.Equal(["if not .Values.secrets.existingSecret"], TemplateText.ConditionsAt(Repository.ChartTemplate("secret.yaml"), "kind: Secret"));
        foreach (var deployment in new[] { "coordinator-deployment.yaml", "worker-deployment.yaml" })
        {
            Assert.Matches(@"- secretRef:\s*\n\s*name: \{\{ include ""effnet.secretName"" \. \}\}", Repository.ChartTemplate(deployment));
        }
    }

    [Fact]
    public void Pods_run_as_the_images_non_root_user_on_a_read_only_root_filesystem()
    {
        var pod = ChartValues.Root.Map("podSecurityContext");
        var container = ChartValues.Root.Map("securityContext");
        Assert.Equal("true", pod.Text("runAsNonRoot"));
        Assert.Equal("true", container.Text("readOnlyRootFilesystem"));
        Assert.Equal("false", container.Text("allowPrivilegeEscalation"));
        // The uid the images create their `app` user with (the aspnet image's APP_UID, repeated in the GPU stage).
        var gpuStageUid = Dockerfile.Parse(Repository.WorkerDockerfile).Single(i => i.Stage == "gpu" && i.Keyword == "ENV" && i.Arguments.Contains("APP_UID=", StringComparison.Ordinal));
        Assert.Contains($"APP_UID={pod.Text("runAsUser")} ", gpuStageUid.Arguments + " ", StringComparison.Ordinal);

        foreach (var deployment in new[] { "coordinator-deployment.yaml", "worker-deployment.yaml" })
        {
            var text = Repository.ChartTemplate(deployment);
            Assert.Contains("{{- toYaml .Values.podSecurityContext | nindent 8 }}", text, StringComparison.Ordinal);
            Assert.Contains("{{- toYaml .Values.securityContext | nindent 12 }}", text, StringComparison.Ordinal);
            // The one writable place besides the model cache: /tmp.
            Assert.Contains("""{{- include "effnet.tmpVolumeMount" . | nindent 12 }}""", text, StringComparison.Ordinal);
            Assert.Contains("""{{- include "effnet.tmpVolume" . | nindent 8 }}""", text, StringComparison.Ordinal);
        }

        Assert.Matches(@"mountPath: /tmp\b", Repository.ChartTemplate("_helpers.tpl"));
    }

    [Fact]
    public void The_worker_model_store_is_the_writable_model_cache_volume()
    {
        Assert.Contains("Models__Directory: {{ .Values.worker.modelCache.path | quote }}", Repository.ChartTemplate("configmap.yaml"), StringComparison.Ordinal);
        Assert.Matches(@"- name: model-cache\s*\n\s*mountPath: \{\{ \.Values\.worker\.modelCache\.path \}\}", Repository.ChartTemplate("worker-deployment.yaml"));
        Assert.StartsWith("/", ChartValues.Worker.Map("modelCache").Text("path"), StringComparison.Ordinal);
    }

    [Fact]
    public void Workers_have_a_disruption_budget()
    {
        var budget = Repository.ChartTemplate("worker-pdb.yaml");

        Assert.Equal(["if .Values.worker.podDisruptionBudget.enabled"], TemplateText.ConditionsAt(budget, "kind: PodDisruptionBudget"));
        Assert.Contains("""(dict "root" . "component" "worker")""", budget, StringComparison.Ordinal);
        Assert.Equal("true", ChartValues.Worker.Map("podDisruptionBudget").Text("enabled"));
    }

    [Fact]
    public void The_chart_is_a_helm_3_application_chart_with_notes()
    {
        var chart = Yaml.Load($"{Repository.ChartFolder}/Chart.yaml");

        Assert.Equal("v2", chart.Text("apiVersion"));
        Assert.Equal("efficientnet-batch", chart.Text("name"));
        Assert.Equal("application", chart.Text("type"));
        Assert.Contains("NOTES.txt", Repository.ChartTemplates().Keys);
    }

    [GeneratedRegex(@"^\s*replicas:\s*(?<count>\S+)", RegexOptions.Multiline)]
    private static partial Regex ReplicasLine();

    [GeneratedRegex(@"scaleTargetRef:\s*\n(?:\s*apiVersion:.*\n|\s*kind:.*\n)*\s*name:(?<name>.*)")]
    private static partial Regex ScaleTarget();

    [GeneratedRegex(@"queueName:\s*""?(?<queue>[^""\s]+)""?")]
    private static partial Regex QueueName();
}
