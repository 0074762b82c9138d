using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Puts shard commands on the bus (one message per shard), at the job's priority.</summary>
public interface IShardDispatcher
{
    Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, JobPriority priority, CancellationToken cancellationToken);
}

/// <summary>Hands a stored job to whichever coordinator dispatches it (the <c>submit-job</c> queue).</summary>
public interface IDispatchRequester
{
    Task RequestAsync(SubmitJob request, CancellationToken cancellationToken);
}

/// <summary>Tells the world that a job finished or was cancelled.</summary>
public interface IJobEventPublisher
{
    Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken);

    Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken);
}
