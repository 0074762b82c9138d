using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>
/// The location policy on a real folder tree with real symbolic links:
/// <code>
/// {root}/data/photos/a.jpg          allowed dataset root: {root}/data, az://images/cats
/// {root}/data/escape -> {root}/outside           (a link leading out of the root)
/// {root}/data/inner -> {root}/data/photos        (a link staying inside)
/// {root}/data/leak.jpg -> {root}/outside/secret.jpg
/// {root}/data2, {root}/Data2, {root}/outside/secret.jpg
/// {root}/results                    allowed output root: file://{root}/results, az://results
/// {root}/results/state-link -> {root}/state
/// {root}/default-out                Coordinator:OutputLocation (trusted)
/// {root}/state                      Coordinator:StateLocation (reserved)
/// </code>
/// </summary>
public sealed class LocationPolicyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("effnet-policy-").FullName;

    public LocationPolicyTests()
    {
        Directory.CreateDirectory(At("data/photos"));
        File.WriteAllText(At("data/photos/a.jpg"), "not really a jpeg");
        Directory.CreateDirectory(At("data2"));
        Directory.CreateDirectory(At("Data2"));
        Directory.CreateDirectory(At("outside"));
        File.WriteAllText(At("outside/secret.jpg"), "secret");
        Directory.CreateDirectory(At("results"));
        Directory.CreateDirectory(At("default-out"));
        Directory.CreateDirectory(At("state/jobs"));
        Directory.CreateSymbolicLink(At("data/escape"), At("outside"));
        Directory.CreateSymbolicLink(At("data/inner"), "photos");
        File.CreateSymbolicLink(At("data/leak.jpg"), At("outside/secret.jpg"));
        Directory.CreateSymbolicLink(At("results/state-link"), At("state"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string, LocationUse, string, LocationRule?> Cases => new()
    {
        // Inside the roots, in every spelling of the same place.
        { "configured", LocationUse.Dataset, "{root}/data/photos", null },
        { "configured", LocationUse.Dataset, "file://{root}/data/photos", null },
        { "configured", LocationUse.Dataset, "FILE://{root}/data/photos/", null },
        { "configured", LocationUse.Dataset, "{root}/data/photos/a.jpg", null },
        { "configured", LocationUse.Dataset, "{root}/data/inner", null },
        { "configured", LocationUse.Dataset, "{root}/data/not-yet-there/x", null },
        { "configured", LocationUse.Dataset, "az://images/cats", null },
        { "configured", LocationUse.Dataset, "az://images/cats/2024/jan", null },
        { "configured", LocationUse.Output, "{root}/results/job-1", null },
        { "configured", LocationUse.Output, "az://results/job-1", null },
        { "configured", LocationUse.Output, "{root}/default-out/0123456789abcdef", null },
        // Traversal, resolved before the comparison.
        { "configured", LocationUse.Dataset, "{root}/data/../outside", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "file://{root}/data/photos/../../outside/secret.jpg", LocationRule.OutsideAllowedRoots },
        // Symbolic links leading out of the root, as the location or as one of its folders.
        { "configured", LocationUse.Dataset, "{root}/data/escape", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "{root}/data/escape/secret.jpg", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "{root}/data/leak.jpg", LocationRule.OutsideAllowedRoots },
        // A sibling whose name starts like the root, in either case.
        { "configured", LocationUse.Dataset, "{root}/data2", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "{root}/Data2", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "{root}/Data/photos", LocationRule.OutsideAllowedRoots },
        // Another container, a container named like the allowed one, a prefix named like the allowed one.
        { "configured", LocationUse.Dataset, "az://other/cats", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "az://images-evil/cats", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "az://images/catsevil", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "az://images", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "az://Images/cats", LocationRule.Malformed },
        { "configured", LocationUse.Dataset, "az://images/cats/../dogs", LocationRule.Malformed },
        { "configured", LocationUse.Dataset, "s3://images/cats", LocationRule.Malformed },
        // Percent-encoding is never decoded, and never accepted.
        { "configured", LocationUse.Dataset, "az://images/cats/%2e%2e/dogs", LocationRule.PercentEncoded },
        { "configured", LocationUse.Dataset, "az://images/cats%2Fdogs", LocationRule.PercentEncoded },
        { "configured", LocationUse.Dataset, "{root}/data/%2E%2E/outside", LocationRule.PercentEncoded },
        // The state location, anything under it, anything above it, and a link into it.
        { "configured", LocationUse.Dataset, "{root}/state", LocationRule.Reserved },
        { "configured", LocationUse.Dataset, "file://{root}/state/jobs", LocationRule.Reserved },
        { "configured", LocationUse.Dataset, "{root}", LocationRule.Reserved },
        { "configured", LocationUse.Output, "{root}/results/state-link", LocationRule.Reserved },
        { "configured", LocationUse.Output, "{root}/results/state-link/jobs", LocationRule.Reserved },
        // An output root is not a dataset root, nor the other way round.
        { "configured", LocationUse.Output, "{root}/data/out", LocationRule.OutsideAllowedRoots },
        { "configured", LocationUse.Dataset, "{root}/results", LocationRule.OutsideAllowedRoots },
        // A relative path is resolved against the current directory, which is outside the roots.
        { "configured", LocationUse.Dataset, "data/photos", LocationRule.OutsideAllowedRoots },
        // No policy: any az:// location but the state, no local path (except under the default output location).
        { "empty", LocationUse.Dataset, "{root}/data/photos", LocationRule.LocalPathWithoutPolicy },
        { "empty", LocationUse.Dataset, "file:///etc", LocationRule.LocalPathWithoutPolicy },
        { "empty", LocationUse.Output, "{root}/results/job-1", LocationRule.LocalPathWithoutPolicy },
        { "empty", LocationUse.Dataset, "az://anything/at-all", null },
        { "empty", LocationUse.Output, "az://results/job-1", null },
        { "empty", LocationUse.Output, "{root}/default-out/job-1", null },
        { "empty", LocationUse.Dataset, "az://effnet-state", LocationRule.Reserved },
        { "empty", LocationUse.Output, "az://effnet-state/jobs/x", LocationRule.Reserved },
        { "empty", LocationUse.Dataset, "az://effnet-state-2", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_location_is_allowed_only_inside_the_roots_after_resolution(string policy, LocationUse use, string location, LocationRule? expected)
    {
        var refusal = Policy(policy).Check(use, Expand(location));

        Assert.True(refusal?.Rule == expected, $"{use} {location}: expected {expected?.ToString() ?? "allowed"}, got {refusal?.Rule.ToString() ?? "allowed"} ({refusal?.Message})");
    }

    [Fact]
    public void A_refusal_names_the_location_the_rule_and_the_setting()
    {
        var outside = Policy("configured").Check(LocationUse.Dataset, "file:///etc");
        var local = Policy("empty").Check(LocationUse.Output, At("results"));
        var linked = Policy("configured").Check(LocationUse.Dataset, At("data/escape"));

        Assert.Equal($"'dataset' 'file:///etc' is outside Coordinator:AllowedDatasets ({At("data")}, az://images/cats).", outside!.Message);
        Assert.Contains("Coordinator:AllowedOutputs lists no roots", local!.Message, StringComparison.Ordinal);
        Assert.Contains($"(resolved: file://{At("outside")})", linked!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_link_into_the_state_is_marked_as_reaching_it_through_a_link()
    {
        var policy = Policy("configured");

        Assert.False(policy.Check(LocationUse.Output, At("state/x"))!.ViaLink);
        Assert.True(policy.Check(LocationUse.Output, At("results/state-link"))!.ViaLink);
    }

    [Fact]
    public void Dataset_items_may_not_leave_the_allowed_roots_through_a_link_or_a_dot_dot()
    {
        var policy = Policy("configured");
        var root = "file://" + At("data");

        Assert.Null(policy.CheckDatasetItems(root, ["photos/a.jpg", "inner/a.jpg", "missing/b.jpg"]));
        Assert.Equal(LocationRule.OutsideAllowedRoots, policy.CheckDatasetItems(root, ["photos/a.jpg", "leak.jpg"])?.Rule);
        Assert.Equal(LocationRule.OutsideAllowedRoots, policy.CheckDatasetItems(root, ["escape/secret.jpg"])?.Rule);
        Assert.Equal(LocationRule.Malformed, policy.CheckDatasetItems(root, ["../outside/secret.jpg"])?.Rule);
        Assert.Equal(LocationRule.Malformed, policy.CheckDatasetItems("az://images/cats", ["a/../../dogs/b.jpg"])?.Rule);
        Assert.Null(policy.CheckDatasetItems("az://images/cats", ["a/b.jpg"]));
    }

    [Fact]
    public async Task A_dataset_folder_that_does_not_exist_is_said_not_to_exist_and_an_empty_one_to_hold_no_images()
    {
        var lister = new DatasetLister(new DatasetReader(new StorageResolver(Options.Create(new StorageOptions()))), Policy("configured"), Options.Create(new JobLimitsOptions()));
        Directory.CreateDirectory(At("data/empty"));

        var missing = await Assert.ThrowsAsync<DatasetException>(() => lister.ListAsync(At("data/missing"), CancellationToken.None));
        var empty = await Assert.ThrowsAsync<DatasetException>(() => lister.ListAsync(At("data/empty"), CancellationToken.None));

        Assert.Equal($"The dataset '{At("data/missing")}' does not exist.", missing.Message);
        Assert.StartsWith($"The dataset '{At("data/empty")}' holds no images (0 other files).", empty.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../outside/secret.jpg", "'..' segment")]
    [InlineData("{root}/outside/secret.jpg", "must be relative")]
    [InlineData("escape/secret.jpg", "is outside Coordinator:AllowedDatasets")]
    [InlineData("leak.jpg", "is outside Coordinator:AllowedDatasets")]
    public async Task A_manifest_entry_that_escapes_the_dataset_makes_the_dataset_unusable(string entry, string reason)
    {
        await File.WriteAllTextAsync(At("data/manifest.csv"), $"photos/a.jpg,1\n{Expand(entry)},2\n");
        var lister = new DatasetLister(new DatasetReader(new StorageResolver(Options.Create(new StorageOptions()))), Policy("configured"), Options.Create(new JobLimitsOptions()));

        var refused = await Assert.ThrowsAsync<DatasetException>(() => lister.ListAsync(At("data/manifest.csv"), CancellationToken.None));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_worker_falls_back_to_the_coordinators_lists_and_trusts_the_configured_output_location()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:AllowedDatasets:0"] = At("data"),
            ["Coordinator:AllowedOutputs:0"] = "az://results",
            ["Coordinator:OutputLocation"] = At("default-out"),
            ["Coordinator:StateLocation"] = At("state"),
        }).Build();

        var shared = LocationPolicies.ForWorker(new WorkerOptions(), configuration);
        var own = LocationPolicies.ForWorker(new WorkerOptions { AllowedDatasets = ["az://images"] }, configuration);

        Assert.Null(shared.Check(LocationUse.Dataset, At("data/photos")));
        Assert.Null(shared.Check(LocationUse.Output, At("default-out/job")));
        Assert.Equal(LocationRule.Reserved, shared.Check(LocationUse.Output, At("state/jobs"))?.Rule);
        var refused = own.Check(LocationUse.Dataset, At("data/photos"));
        Assert.Contains("Worker:AllowedDatasets (az://images)", refused?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Roots_that_are_not_locations_stop_the_worker_naming_the_setting_they_came_from()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:AllowedDatasets:0"] = "az://Bad_Container",
        }).Build();
        var validator = new WorkerLocationOptionsValidator(configuration);

        var result = validator.Validate(null, new WorkerOptions { AllowedOutputs = ["file://relative"] });

        Assert.Equal(
            ["Coordinator:AllowedDatasets:0 'az://Bad_Container'", "Worker:AllowedOutputs:0 'file://relative'"],
            result.Failures!.Select(f => f[..f.IndexOf("':", StringComparison.Ordinal)] + "'"));
    }

    [Fact]
    public void Roots_that_are_not_locations_stop_the_coordinator_naming_the_setting()
    {
        var validator = new CoordinatorOptionsValidator(new StorageResolver(Options.Create(new StorageOptions())));

        var result = validator.Validate(null, new CoordinatorOptions
        {
            StateLocation = At("state"),
            OutputLocation = At("default-out"),
            AllowedDatasets = [At("data"), "az://Bad_Container"],
            AllowedOutputs = ["file://relative", "az://results/%2e%2e"],
        });

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Coordinator:AllowedDatasets:1 'az://Bad_Container'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Coordinator:AllowedOutputs:0 'file://relative'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Coordinator:AllowedOutputs:1 'az://results/%2e%2e'", StringComparison.Ordinal));
    }

    private LocationPolicy Policy(string name) => name == "configured"
        ? new LocationPolicy(
            new LocationRoots("Coordinator:AllowedDatasets", [At("data"), "az://images/cats"]),
            new LocationRoots("Coordinator:AllowedOutputs", ["file://" + At("results"), "az://results"]),
            [new ConfiguredLocation("Coordinator:OutputLocation", At("default-out"))],
            [new ConfiguredLocation("Coordinator:StateLocation", At("state"))])
        : new LocationPolicy(
            new LocationRoots("Coordinator:AllowedDatasets", []),
            new LocationRoots("Coordinator:AllowedOutputs", []),
            [new ConfiguredLocation("Coordinator:OutputLocation", At("default-out"))],
            [new ConfiguredLocation("Coordinator:StateLocation", "az://effnet-state")]);

    private string At(string relative) => Path.Combine(_root, relative);

    private string Expand(string location) => location.Replace("{root}", _root, StringComparison.Ordinal);
}
