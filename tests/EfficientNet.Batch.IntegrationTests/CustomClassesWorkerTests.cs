using EfficientNet.Batch.Components;
using EfficientNet.Batch.Components.Incremental;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>A custom model (issue #12) on the distributed path, in process: published to a shared model store (a
/// folder here, the same semantics as Azure Blob), taken from it by a worker that labels real photos with the custom
/// names, and accepted by the coordinator's job validation. No RabbitMQ or Azurite is involved.</summary>
public sealed class CustomClassesWorkerTests : IDisposable
{
    private const string Name = "pets";
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-custom-worker-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Shared => Path.Combine(_work, "shared-models");

    private string Dataset => Path.GetDirectoryName(CustomClassesFiles.Photos[0])!;

    /// <summary>Imports the pets model into a publisher's store and publishes it to the shared folder (the weights of
    /// <paramref name="seed"/> when given).</summary>
    private async Task<ResolvedModel> PublishPetsAsync(int? seed = null)
    {
        using var publisher = Host(Path.Combine(_work, "publisher"), remote: Shared);
        var checkpoint = seed is { } s ? CustomClassesFiles.WriteCheckpoint(_work, s) : CustomClassesFiles.WriteCheckpoint(_work);
        var imported = await new CheckpointImporter(publisher.Services.GetRequiredService<ModelStore>()).ImportCustomFileAsync(
            Name, "b0", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds), checkpoint, null, null, CancellationToken.None);
        await publisher.Services.GetRequiredService<SharedModelStore>().PublishAsync(Name, CancellationToken.None);
        return imported;
    }

    private IHost Host(string models, string? remote, bool coordinator = false)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:Directory"] = models,
            ["Models:RemoteLocation"] = remote,
            ["Inference:BatchSize"] = "2",
            ["Coordinator:StateLocation"] = Path.Combine(_work, "state"),
            ["Coordinator:OutputLocation"] = Path.Combine(_work, "results"),
            ["Coordinator:AllowedDatasets:0"] = Dataset,
            ["Coordinator:AllowedOutputs:0"] = _work,
        });
        if (coordinator)
        {
            builder.AddCoordinatorComponents();
        }
        else
        {
            builder.AddWorkerComponents();
        }

        return builder.Build();
    }

    [Fact]
    public async Task A_running_worker_picks_up_weights_published_again_without_a_restart()
    {
        var first = await PublishPetsAsync();
        using var worker = Host(Path.Combine(_work, "worker"), remote: Shared);
        var model = new ModelRef(Name, RandomWeights: false, Seed: 0);
        var photos = CustomClassesFiles.Photos;
        async Task<ClassificationRun> ShardAsync()
        {
            await worker.Services.GetRequiredService<SharedModelStore>().EnsureLocalAsync(model, CancellationToken.None);
            return await worker.Services.GetRequiredService<ImageBatchClassifier>().ClassifyAsync(
                model, [.. photos.Select(p => ImageInput.FromFile(p))], 5, null, CancellationToken.None);
        }

        var before = await ShardAsync();
        Assert.Equal(before.Model.OnnxSha256, (await ShardAsync()).Model.OnnxSha256);
        var second = await PublishPetsAsync(seed: 38);
        var after = await ShardAsync();

        Assert.Equal(first.OnnxSha256, before.Model.OnnxSha256);
        Assert.NotEqual(first.OnnxSha256, second.OnnxSha256);
        Assert.Equal(second.OnnxSha256, after.Model.OnnxSha256);
        // Classified with the new weights, not by the session of the old ones.
        Assert.NotEqual(before.Records[0].Top![0].Probability, after.Records[0].Top![0].Probability);
        Assert.Equal(2, worker.Services.GetRequiredService<ModelSessionCache>().Count);
    }

    [Fact]
    public async Task Worker_takes_the_custom_model_from_the_shared_store_and_labels_photos_with_its_names()
    {
        var published = await PublishPetsAsync();
        using var worker = Host(Path.Combine(_work, "worker"), remote: Shared);
        var model = new ModelRef(Name, RandomWeights: false, Seed: 0);
        var photos = CustomClassesFiles.Photos;

        await worker.Services.GetRequiredService<SharedModelStore>().EnsureLocalAsync(model, CancellationToken.None);
        var run = await worker.Services.GetRequiredService<ImageBatchClassifier>().ClassifyAsync(
            model, [.. photos.Select(p => ImageInput.FromFile(p))], 5, null, CancellationToken.None);

        Assert.Equal(published.OnnxSha256, run.Model.OnnxSha256);
        Assert.Equal(CustomClassesFiles.PetBreeds, run.Model.ClassNames);
        Assert.Equal(photos.Count, run.Ok);
        Assert.All(run.Records, record =>
        {
            Assert.Equal(5, record.Top!.Count);
            Assert.All(record.Top, c =>
            {
                Assert.InRange(c.Index, 0, 36);
                Assert.Equal(CustomClassesFiles.PetBreeds[c.Index], c.Name);
            });
        });
        // Not every photo gets the same answer: the 37-way head responds to the image.
        Assert.True(run.Records.Select(r => string.Join(",", r.Top!.Select(c => c.Index))).Distinct().Count() > 1);
    }

    [Fact]
    public async Task Coordinator_accepts_a_custom_model_published_to_the_shared_store_and_refuses_an_unknown_one()
    {
        await PublishPetsAsync();
        using var coordinator = Host(Path.Combine(_work, "coordinator"), remote: Shared, coordinator: true);
        var validator = coordinator.Services.GetRequiredService<JobSpecValidator>();

        var pets = await validator.ValidateAsync(new JobSpec { Dataset = Dataset, Model = "Pets" }, CancellationToken.None);
        var birds = await validator.ValidateAsync(new JobSpec { Dataset = Dataset, Model = "birds" }, CancellationToken.None);

        Assert.Empty(pets);
        var error = Assert.Single(birds);
        Assert.Contains("unknown model 'birds'", error, StringComparison.Ordinal);
        Assert.Contains("nor is it a custom model in the model store the workers use", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Coordinator_knows_the_custom_model_and_its_identity_from_the_shared_store()
    {
        var published = await PublishPetsAsync();
        using var coordinator = Host(Path.Combine(_work, "coordinator"), remote: Shared, coordinator: true);
        var spec = new JobSpec { Dataset = Dataset, Model = Name };

        var identity = await coordinator.Services.GetRequiredService<ModelIdentityResolver>().ResolveAsync(spec, CancellationToken.None);
        var described = await new ServedModels(
            coordinator.Services.GetRequiredService<EfficientNet.Batch.Storage.IStorageResolver>(),
            coordinator.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ModelStoreOptions>>()).FindAsync(Name, CancellationToken.None);

        Assert.NotNull(identity);
        Assert.Equal(Name, identity.ModelId);
        Assert.Equal(ModelIdentity.ImportedWeights(published.OnnxSha256), identity.Weights);
        Assert.Equal(224, identity.Preprocessing.Resolution);
        Assert.Equal("imagenet", identity.Preprocessing.Normalization);
        Assert.NotNull(described);
        Assert.True(described.Variant.IsCustom);
        Assert.Equal(CustomClassesFiles.PetBreeds, described.ClassNames);
    }

    [Fact]
    public async Task Without_a_shared_store_the_job_validation_finds_the_custom_model_in_the_local_store()
    {
        var models = Path.Combine(_work, "local");
        await new CheckpointImporter(new ModelStore(models)).ImportCustomFileAsync(
            Name, "b0", CustomClassesFiles.WriteNames(_work, CustomClassesFiles.PetBreeds), CustomClassesFiles.WriteCheckpoint(_work), null, null, CancellationToken.None);
        using var coordinator = Host(models, remote: null, coordinator: true);
        var validator = coordinator.Services.GetRequiredService<JobSpecValidator>();

        Assert.Empty(validator.Validate(new JobSpec { Dataset = Dataset, Model = Name }));
        Assert.Empty(await validator.ValidateAsync(new JobSpec { Dataset = Dataset, Model = Name }, CancellationToken.None));
        Assert.Single(validator.Validate(new JobSpec { Dataset = Dataset, Model = "birds" }));
    }
}
