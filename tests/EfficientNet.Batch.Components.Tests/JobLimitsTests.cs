using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>The <c>Limits</c> the coordinator's components enforce: images per job and manifest size (the job fails at
/// planning, naming the setting, before any shard is sent) and unfinished jobs per identity (refused at submit).</summary>
public sealed class JobLimitsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-limits-").FullName;
    private readonly string _dataset;
    private readonly NoBus _bus = new();
    private readonly ServiceProvider _services;

    public JobLimitsTests()
    {
        _dataset = TestData.DatasetOf(TestData.FirstPhotos(5).Select(p => (p, Path.GetFileName(p))));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:StateLocation"] = Path.Combine(_work, "state"),
            ["Coordinator:OutputLocation"] = Path.Combine(_work, "results"),
            ["Coordinator:AllowedDatasets:0"] = _dataset,
            ["Limits:MaxImagesPerJob"] = "4",
            ["Limits:MaxManifestBytes"] = "1024",
            ["Limits:MaxConcurrentJobsPerIdentity"] = "1",
        });
        builder.AddCoordinatorComponents();
        builder.Services.Replace(ServiceDescriptor.Singleton<IShardDispatcher>(_bus));
        builder.Services.Replace(ServiceDescriptor.Singleton<IDispatchRequester>(_bus));
        builder.Services.Replace(ServiceDescriptor.Singleton<IJobEventPublisher>(_bus));
        _services = builder.Services.BuildServiceProvider();
    }

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_work, recursive: true);
        Directory.Delete(_dataset, recursive: true);
    }

    private async Task<JobRecord> DispatchAsync(string dataset, string submittedBy)
    {
        var record = await _services.GetRequiredService<JobSubmission>().SubmitAsync(
            NewId.NextGuid(), new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true }, overwrite: false, CancellationToken.None, submittedBy);
        await _services.GetRequiredService<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None);
        return (await _services.GetRequiredService<JobStateStore>().GetAsync(record.JobId, CancellationToken.None))!;
    }

    [Fact]
    public async Task A_dataset_with_more_images_than_a_job_may_have_fails_at_planning_naming_the_setting()
    {
        var job = await DispatchAsync(_dataset, "key:a");

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("Limits:MaxImagesPerJob", job.Error, StringComparison.Ordinal);
        Assert.Empty(_bus.Shards);
    }

    [Fact]
    public async Task A_manifest_larger_than_the_limit_fails_at_planning_naming_the_setting()
    {
        var name = Path.GetFileName(Directory.GetFiles(_dataset).Order(StringComparer.Ordinal).First());
        var manifest = Path.Combine(_dataset, "manifest.txt");
        await File.WriteAllLinesAsync(manifest, Enumerable.Repeat(name, 200));

        var job = await DispatchAsync(manifest, "key:a");

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("Limits:MaxManifestBytes", job.Error, StringComparison.Ordinal);
        Assert.Empty(_bus.Shards);
    }

    [Fact]
    public async Task An_identity_at_its_unfinished_job_limit_is_refused_while_another_is_not()
    {
        var submission = _services.GetRequiredService<JobSubmission>();
        var spec = new JobSpec { Dataset = _dataset, Model = "efficientnet_b0", RandomWeights = true };
        await submission.SubmitAsync(NewId.NextGuid(), spec, overwrite: false, CancellationToken.None, "key:a");

        var refused = await Assert.ThrowsAsync<JobLimitException>(() =>
            submission.SubmitAsync(NewId.NextGuid(), spec, overwrite: false, CancellationToken.None, "key:a"));
        await submission.SubmitAsync(NewId.NextGuid(), spec, overwrite: false, CancellationToken.None, "key:b");

        Assert.Contains("Limits:MaxConcurrentJobsPerIdentity", refused.Message, StringComparison.Ordinal);
        Assert.Contains("key:a", refused.Message, StringComparison.Ordinal);
    }

    private sealed class NoBus : IShardDispatcher, IDispatchRequester, IJobEventPublisher
    {
        public List<ClassifyShard> Shards { get; } = [];

        public Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, JobPriority priority, CancellationToken cancellationToken)
        {
            lock (Shards)
            {
                Shards.AddRange(shards);
            }

            return Task.CompletedTask;
        }

        public Task RequestAsync(SubmitJob request, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
