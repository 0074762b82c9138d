using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Schedules;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests.Schedules;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Set(DateTimeOffset now) => _now = now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>One coordinator's services, in process, over a file-system state folder (several may share one), with a
/// bus that takes every dispatch request and does nothing: jobs stay <c>Submitted</c> until a test finishes them.</summary>
public sealed class ScheduleCoordinator : IDisposable
{
    private readonly ServiceProvider _services;

    public ScheduleCoordinator(string work, ManualClock clock)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:StateLocation"] = Path.Combine(work, "state"),
            ["Coordinator:OutputLocation"] = Path.Combine(work, "results"),
            ["Coordinator:AllowedDatasets:0"] = Path.Combine(work, "data"),
            ["Coordinator:AllowedOutputs:0"] = Path.Combine(work, "outputs"),
        });
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.AddCoordinatorComponents();
        var bus = new IdleBus();
        builder.Services.Replace(ServiceDescriptor.Singleton<IShardDispatcher>(bus));
        builder.Services.Replace(ServiceDescriptor.Singleton<IDispatchRequester>(bus));
        builder.Services.Replace(ServiceDescriptor.Singleton<IJobEventPublisher>(bus));
        _services = builder.Services.BuildServiceProvider();
    }

    public ScheduleService Schedules => Get<ScheduleService>();

    public ScheduleRunner Runner => Get<ScheduleRunner>();

    public ScheduleStore Store => Get<ScheduleStore>();

    public JobStateStore Jobs => Get<JobStateStore>();

    public void Dispose() => _services.Dispose();

    public Task TickAsync() => Runner.TickAsync(CancellationToken.None);

    /// <summary>Every stored job of a schedule, as read from storage (not this coordinator's index).</summary>
    public async Task<IReadOnlyList<JobRecord>> JobsOfAsync(Guid scheduleId)
    {
        var jobs = new List<JobRecord>();
        await foreach (var job in Jobs.ListAsync(CancellationToken.None))
        {
            if (job.ScheduleId == scheduleId.ToString())
            {
                jobs.Add(job);
            }
        }

        return [.. jobs.OrderBy(j => j.DueAt)];
    }

    public Task FinishAsync(Guid jobId, JobStatus status = JobStatus.Completed) =>
        Jobs.UpdateAsync(jobId, r => r with { Status = status, CompletedAt = r.SubmittedAt }, CancellationToken.None);

    private T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    private sealed class IdleBus : IShardDispatcher, IDispatchRequester, IJobEventPublisher
    {
        public Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, JobPriority priority, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task RequestAsync(SubmitJob request, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
