using EfficientNet.Batch.Components.Workers;
using YamlDotNet.RepresentationModel;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>Every <c>Section__Key</c> environment variable the deployment files set reaches a real option: a misspelt
/// one is silently ignored by the host, which then runs on a default nobody chose.</summary>
public sealed class ConfigurationNameTests
{
    [Theory]
    [InlineData("Messaging__RabbitMqUri")]
    [InlineData("Storage__AzureConnectionString")]
    [InlineData("Coordinator__FinalizeLeaseTimeout")]
    [InlineData("Worker__PreloadModels__0__Id")]
    [InlineData("Worker__PreloadModels__12__RandomSeed")]
    [InlineData("Inference__Device")]
    [InlineData("Models__RemoteLocation")]
    [InlineData("worker__concurrentShards")]
    [InlineData("Storage__AccountUrl")]
    [InlineData("Auth__ApiKeys__0__Sha256")]
    [InlineData("Auth__ApiKeys__3__Scopes__1")]
    [InlineData("Auth__Jwt__Audience")]
    [InlineData("Auth__AllowAnonymous")]
    [InlineData("Limits__MaxImagesPerJob")]
    [InlineData("Coordinator__AllowedDatasets__0")]
    [InlineData("Cost__PricePerHour__Cuda")]
    public void A_settable_option_is_recognised_in_its_environment_variable_form(string variable) =>
        Assert.Null(OptionsCatalogue.Instance.ProblemWith(variable));

    [Theory]
    [InlineData("Worker__ConcurentShards", "no public property")]
    [InlineData("Worker__EffectiveName", "read-only")]
    [InlineData("Worker__PreloadModels__Id", "numbered")]
    [InlineData("Worker__PreloadModels__0", "not a value")]
    [InlineData("Worker__PreloadModels", "not a value")]
    [InlineData("Inference__Device__Name", "value")]
    [InlineData("Storage__ConnectionString", "no public property")]
    [InlineData("Messages__Transport", "no options class")]
    public void A_name_that_binds_to_nothing_is_caught_with_the_reason(string variable, string reason) =>
        Assert.Contains(reason, OptionsCatalogue.Instance.ProblemWith(variable), StringComparison.Ordinal);

    [Fact]
    public void The_sections_are_found_by_reflection_over_the_options_classes()
    {
        Assert.Equal(typeof(WorkerOptions), OptionsCatalogue.Instance.Sections["Worker"]);
        Assert.Equal(
            ["Auth", "Coordinator", "Cost", "Inference", "Limits", "Messaging", "Models", "Schedules", "Storage", "Worker"],
            OptionsCatalogue.Instance.Sections.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_setting_named_by_compose_the_chart_the_Dockerfiles_and_the_README_binds_to_an_option()
    {
        var named = NamedSettings();

        // The scan reads each kind of file (a scan that found nothing would pass vacuously).
        Assert.Contains((Repository.ComposeFile, "Worker__PreloadModels__0__Id"), named);
        Assert.Contains((Repository.ComposeFile, "Coordinator__StateLocation"), named);
        Assert.Contains(($"{Repository.ChartFolder}/values.yaml", "Worker__ConcurrentShards"), named);
        Assert.Contains(($"{Repository.ChartFolder}/templates/configmap.yaml", "Inference__Device"), named);
        Assert.Contains(($"{Repository.ChartFolder}/templates/secret.yaml", "Storage__AzureConnectionString"), named);
        Assert.Contains(($"{Repository.ChartFolder}/templates/configmap.yaml", "Auth__AllowAnonymous"), named);
        Assert.Contains(($"{Repository.ChartFolder}/templates/_helpers.tpl", "Storage__AccountUrl"), named);
        Assert.Contains((Repository.WorkerDockerfile, "Models__Directory"), named);
        Assert.Contains(named, n => n.Source == "README.md");

        var problems = named
            .Select(n => (n.Source, n.Name, Problem: OptionsCatalogue.Instance.ProblemWith(n.Name)))
            .Where(n => n.Problem is not null)
            .Select(n => $"{n.Source}: {n.Name} {n.Problem}")
            .ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>Names from the parsed YAML (compose environments, the chart's config maps) and every
    /// Section__Key-shaped word in the files' text, comments included: a commented example gets uncommented.</summary>
    private static HashSet<(string Source, string Name)> NamedSettings()
    {
        var named = new HashSet<(string, string)>();
        void AddText(string relativePath)
        {
            foreach (var name in Repository.SettingNamesIn(Repository.Read(relativePath)))
            {
                named.Add((relativePath, name));
            }
        }

        AddText(Repository.ComposeFile);
        foreach (var service in Compose.Services.Children.Keys.Cast<YamlScalarNode>())
        {
            foreach (var key in Compose.Environment(service.Value!).Keys.Where(k => k.Contains("__", StringComparison.Ordinal)))
            {
                named.Add((Repository.ComposeFile, key));
            }
        }

        var valuesFile = $"{Repository.ChartFolder}/values.yaml";
        AddText(valuesFile);
        foreach (var key in ChartValues.SharedConfig.Keys.Concat(ChartValues.CoordinatorConfig.Keys).Concat(ChartValues.WorkerConfig.Keys)
                     .Where(k => k.Contains("__", StringComparison.Ordinal)))
        {
            named.Add((valuesFile, key));
        }

        foreach (var template in Repository.ChartTemplates().Keys)
        {
            AddText($"{Repository.ChartFolder}/templates/{template}");
        }

        AddText(Repository.CoordinatorDockerfile);
        AddText(Repository.WorkerDockerfile);
        AddText("README.md");
        return named;
    }
}
