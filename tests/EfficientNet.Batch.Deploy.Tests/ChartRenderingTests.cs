using System.Security.Cryptography;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The chart rendered by helm: who may call the coordinator, how the pods reach storage, where jobs may read
/// and write, and that no secret is ever in a ConfigMap.</summary>
public sealed class ChartRenderingTests
{
    private const string ApiKey = "effnet-test-api-key-never-in-a-manifest";
    private const string AccountUrl = "https://effnetaccount.blob.core.windows.net";

    private static readonly string ApiKeyHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)));

    [Fact]
    public void By_default_the_chart_refuses_to_render_without_keys_a_jwt_issuer_or_anonymous_access_naming_the_values()
    {
        var (documents, error) = Helm.Template(Values());

        Assert.Null(documents);
        foreach (var value in new[] { "auth.apiKeys", "auth.existingSecret", "auth.jwt.authority", "auth.jwt.audience", "auth.allowAnonymous" })
        {
            Assert.Contains(value, error, StringComparison.Ordinal);
        }

        Assert.Equal("false", ChartValues.Root.Map("auth").Text("allowAnonymous"));
    }

    [Fact]
    public void Anonymous_access_renders_only_when_asked_for_and_reaches_the_coordinator_as_a_setting()
    {
        var documents = Helm.Render(Values(("auth.allowAnonymous", "true")));

        Assert.Equal("true", Data(documents.Single("ConfigMap", "-coordinator"))["Auth__AllowAnonymous"]);
        Assert.DoesNotContain(documents, d => d.Map("metadata").Text("name")!.EndsWith("-auth", StringComparison.Ordinal));
        Assert.Empty(HostConfiguration.CoordinatorProblems(CoordinatorEnvironment(documents)));
    }

    [Fact]
    public void Api_key_hashes_go_into_a_secret_the_coordinator_reads_and_the_coordinator_starts_with_them()
    {
        var documents = Helm.Render(Values(
            ("auth.apiKeys[0].name", "ci"),
            ("auth.apiKeys[0].sha256", ApiKeyHash),
            ("auth.apiKeys[0].scopes[0]", "jobs:submit"),
            ("auth.apiKeys[0].scopes[1]", "jobs:read")));

        var secret = documents.Single("Secret", "-auth");
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Auth__ApiKeys__0__Name"] = "ci",
                ["Auth__ApiKeys__0__Sha256"] = ApiKeyHash,
                ["Auth__ApiKeys__0__Scopes__0"] = "jobs:submit",
                ["Auth__ApiKeys__0__Scopes__1"] = "jobs:read",
            },
            Data(secret, "stringData"));
        var secretName = secret.Map("metadata").Text("name");
        Assert.Contains(secretName, SecretRefs(documents.Single("Deployment", "-coordinator")));
        Assert.DoesNotContain(secretName, SecretRefs(documents.Single("Deployment", "-worker")));
        Assert.Equal("false", Data(documents.Single("ConfigMap", "-coordinator"))["Auth__AllowAnonymous"]);
        Assert.Empty(HostConfiguration.CoordinatorProblems(CoordinatorEnvironment(documents)));
    }

    [Fact]
    public void Keys_from_an_existing_secret_are_referenced_and_never_rendered()
    {
        var documents = Helm.Render(Values(("auth.existingSecret", "effnet-api-keys")));

        Assert.Contains("effnet-api-keys", SecretRefs(documents.Single("Deployment", "-coordinator")));
        Assert.DoesNotContain(documents, d => d.Text("kind") == "Secret" && d.Map("metadata").Text("name")!.EndsWith("-auth", StringComparison.Ordinal));
    }

    [Fact]
    public void A_key_given_instead_of_its_hash_is_refused_without_echoing_it()
    {
        var (documents, error) = Helm.Template(Values(
            ("auth.apiKeys[0].name", "ci"),
            ("auth.apiKeys[0].sha256", ApiKey),
            ("auth.apiKeys[0].scopes[0]", "admin")));

        Assert.Null(documents);
        Assert.Contains("auth.apiKeys[0].sha256", error, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_jwt_issuer_is_a_plain_setting_and_needs_its_audience()
    {
        var documents = Helm.Render(Values(("auth.jwt.authority", "https://login.example/tenant/v2.0"), ("auth.jwt.audience", "api://effnet")));
        var data = Data(documents.Single("ConfigMap", "-coordinator"));
        Assert.Equal("https://login.example/tenant/v2.0", data["Auth__Jwt__Authority"]);
        Assert.Equal("api://effnet", data["Auth__Jwt__Audience"]);
        Assert.Empty(HostConfiguration.CoordinatorProblems(CoordinatorEnvironment(documents)));

        var (halfConfigured, error) = Helm.Template(Values(("auth.jwt.authority", "https://login.example/tenant/v2.0")));
        Assert.Null(halfConfigured);
        Assert.Contains("auth.jwt.audience", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Workload_identity_labels_the_pods_and_gives_both_hosts_the_account_url_and_no_connection_string()
    {
        var documents = Helm.Render(Values(
            ("auth.allowAnonymous", "true"),
            ("secrets.azureStorageConnectionString", ""),
            ("storage.accountUrl", AccountUrl),
            ("serviceAccount.annotations.azure\\.workload\\.identity/client-id", "00000000-0000-0000-0000-000000000001")));

        var serviceAccount = documents.Single("ServiceAccount", "");
        Assert.Equal("00000000-0000-0000-0000-000000000001", serviceAccount.Map("metadata").Map("annotations").Text("azure.workload.identity/client-id"));
        foreach (var component in new[] { "-coordinator", "-worker" })
        {
            var pod = documents.Single("Deployment", component).Map("spec").Map("template");
            Assert.Equal("true", pod.Map("metadata").Map("labels").Text("azure.workload.identity/use"));
            Assert.Equal(serviceAccount.Map("metadata").Text("name"), pod.Map("spec").Text("serviceAccountName"));
            Assert.Equal(AccountUrl, Data(documents.Single("ConfigMap", component))["Storage__AccountUrl"]);
        }

        Assert.DoesNotContain("Storage__AzureConnectionString", Data(documents.Single("Secret", "-connections"), "stringData").Keys);
        var coordinator = CoordinatorEnvironment(documents);
        Assert.Empty(HostConfiguration.CoordinatorProblems(coordinator));
    }

    [Fact]
    public void Without_an_account_url_the_pods_are_not_labelled_for_workload_identity()
    {
        var documents = Helm.Render(Values(("auth.allowAnonymous", "true")));

        foreach (var component in new[] { "-coordinator", "-worker" })
        {
            var labels = documents.Single("Deployment", component).Map("spec").Map("template").Map("metadata").Map("labels");
            Assert.Null(labels.Find("azure.workload.identity/use"));
            Assert.DoesNotContain("Storage__AccountUrl", Data(documents.Single("ConfigMap", component)).Keys);
        }
    }

    [Fact]
    public void An_account_url_and_a_connection_string_together_are_refused_naming_both()
    {
        var (documents, error) = Helm.Template(Values(("auth.allowAnonymous", "true"), ("storage.accountUrl", AccountUrl)));

        Assert.Null(documents);
        Assert.Contains("storage.accountUrl", error, StringComparison.Ordinal);
        Assert.Contains("secrets.azureStorageConnectionString", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Allowed_locations_reach_the_coordinator_and_the_workers_as_numbered_settings()
    {
        var documents = Helm.Render(Values(
            ("auth.allowAnonymous", "true"),
            ("coordinator.allowedDatasets[0]", "az://datasets"),
            ("coordinator.allowedDatasets[1]", "az://teams/vision"),
            ("coordinator.allowedOutputs[0]", "az://results")));

        foreach (var component in new[] { "-coordinator", "-worker" })
        {
            var data = Data(documents.Single("ConfigMap", component));
            Assert.Equal("az://datasets", data["Coordinator__AllowedDatasets__0"]);
            Assert.Equal("az://teams/vision", data["Coordinator__AllowedDatasets__1"]);
            Assert.Equal("az://results", data["Coordinator__AllowedOutputs__0"]);
            Assert.All(data.Keys.Where(k => k.Contains("__", StringComparison.Ordinal)), k => Assert.Null(OptionsCatalogue.Instance.ProblemWith(k)));
        }

        Assert.Empty(HostConfiguration.CoordinatorProblems(CoordinatorEnvironment(documents)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void No_secret_ever_reaches_a_config_map(bool apiKeys)
    {
        var documents = Helm.Render(apiKeys
            ? Values(("auth.apiKeys[0].name", "ci"), ("auth.apiKeys[0].sha256", ApiKeyHash), ("auth.apiKeys[0].scopes[0]", "admin"))
            : Values(("auth.allowAnonymous", "true")));
        var secrets = new[] { "broker-password", "c3RvcmFnZS1rZXk=", ApiKeyHash, "AccountKey", "amqp://" };

        var configMaps = documents.Where(d => d.Text("kind") == "ConfigMap").ToList();
        Assert.Equal(2, configMaps.Count);
        foreach (var configMap in configMaps)
        {
            var data = Data(configMap);
            Assert.DoesNotContain(data.Keys, k => k is "Storage__AzureConnectionString" or "Messaging__RabbitMqUri" || k.StartsWith("Auth__ApiKeys", StringComparison.Ordinal));
            Assert.DoesNotContain(data.Values, v => secrets.Any(s => v.Contains(s, StringComparison.Ordinal)));
        }

        // Only Secrets hold them: the rendering did carry them (a check that found nothing anywhere would prove nothing).
        var inSecrets = documents.Where(d => d.Text("kind") == "Secret").SelectMany(d => Data(d, "stringData").Values).ToList();
        Assert.Contains(inSecrets, v => v.Contains("broker-password", StringComparison.Ordinal));
        Assert.Contains(inSecrets, v => v.Contains("c3RvcmFnZS1rZXk=", StringComparison.Ordinal));
    }

    /// <summary>The required values, the given ones on top.</summary>
    private static Dictionary<string, string> Values(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string>(Helm.Required, StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return all;
    }

    private static IReadOnlyDictionary<string, string> Data(YamlMappingNode document, string field = "data") =>
        (document.Find(field) as YamlMappingNode).Strings();

    private static List<string> SecretRefs(YamlMappingNode deployment)
    {
        var container = (YamlMappingNode)((YamlSequenceNode)deployment.Map("spec").Map("template").Map("spec").Find("containers")!).Children[0];
        return
        [
            .. ((YamlSequenceNode)container.Find("envFrom")!).Children.Cast<YamlMappingNode>()
                .Select(source => (source.Find("secretRef") as YamlMappingNode)?.Text("name"))
                .OfType<string>(),
        ];
    }

    /// <summary>What the coordinator pod's environment holds: its ConfigMap and every Secret it reads, as rendered.</summary>
    private static Dictionary<string, string> CoordinatorEnvironment(IReadOnlyList<YamlMappingNode> documents)
    {
        var environment = new Dictionary<string, string>(Data(documents.Single("ConfigMap", "-coordinator")), StringComparer.Ordinal);
        var secretNames = SecretRefs(documents.Single("Deployment", "-coordinator"));
        foreach (var secret in documents.Where(d => d.Text("kind") == "Secret" && secretNames.Contains(d.Map("metadata").Text("name")!)))
        {
            foreach (var (key, value) in Data(secret, "stringData"))
            {
                environment[key] = value;
            }
        }

        // Not a .NET setting; the binder would not see it.
        environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        return environment;
    }
}
