using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// Finishes what was interrupted, at start-up and every <see cref="CoordinatorOptions.SweepInterval"/>: asks again for
/// the dispatch of jobs that were stored but never dispatched (broker down at submit, coordinator killed while
/// dispatching), merges jobs whose every shard is done but whose merge never ended (coordinator killed during the
/// merge: once its lease goes stale), closes cancelled jobs after their grace period, and removes finished jobs'
/// state past <see cref="CoordinatorOptions.Retention"/>. No job is left stranded until a restart.
/// </summary>
public sealed partial class JobSweeper(
    JobStateStore state,
    JobSubmission submission,
    JobDispatcher dispatcher,
    JobFinalizer finalizer,
    JobProgressTracker progress,
    IOptions<CoordinatorOptions> options,
    TimeProvider clock,
    ILogger<JobSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
        do
        {
            try
            {
                var swept = await SweepAsync(stoppingToken);
                if (swept.Any)
                {
                    LogSwept(swept.DispatchRequested, swept.Finalized, swept.Deleted);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage or broker unavailable: the next pass tries again.
                LogSweepFailed(e.GetType().Name, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over the unfinished jobs and, with a retention period, the finished ones.</summary>
    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var index = await state.LoadIndexAsync(cancellationToken);
        var now = clock.GetUtcNow();
        int requested = 0, finalized = 0, deleted = 0;
        var brokerDown = false;
        foreach (var job in index.Unfinished())
        {
            var undispatched = job.Status == JobStatus.Submitted || (job.Status == JobStatus.Running && job.DispatchedAt is null);
            if (undispatched)
            {
                // A job submitted a moment ago has its own request under way.
                if (brokerDown || dispatcher.IsDispatching(job.JobId) || now - job.SubmittedAt < options.Value.SubmitTimeout)
                {
                    continue;
                }

                if (await RequestDispatchAgainAsync(job, cancellationToken))
                {
                    requested++;
                }
                else
                {
                    brokerDown = true;
                }
            }
            else if (job.Status == JobStatus.Cancelling || await AllShardsDoneAsync(job, cancellationToken))
            {
                if (await finalizer.TryFinalizeAsync(job.JobId, cancellationToken))
                {
                    finalized++;
                }
            }
        }

        // Jobs finished by another coordinator, deleted, or tracked again by a late event after their merge: the stored
        // record decides (this process's index does not see another coordinator's writes). One read per tracked job.
        await progress.RetainOnlyAsync(async jobId => await state.GetAsync(jobId, cancellationToken) is { IsTerminal: false });

        if (options.Value.Retention is { } retention)
        {
            foreach (var job in index.All().Where(j => j.IsTerminal && j.CompletedAt is { } at && now - at >= retention))
            {
                await state.DeleteAsync(job.JobId, cancellationToken);
                deleted++;
                LogExpired(job.JobId, job.CompletedAt!.Value);
            }
        }

        return new SweepResult(requested, finalized, deleted);
    }

    /// <summary>Asks again for a job's dispatch inside a span of the job's own trace, so that the request message, and
    /// the dispatch it leads to, carry the trace the job started at submission. (A merge the sweep finishes needs no such
    /// span: <see cref="JobFinalizer"/> starts its merge span under the job's context itself, and only when it merges.)</summary>
    private async Task<bool> RequestDispatchAgainAsync(JobRecord job, CancellationToken cancellationToken)
    {
        using var activity = JobTracing.StartPhase(JobTracing.Spans.Recover, job);
        activity?.SetTag(JobTracing.Tags.RecoveryAction, "dispatch");
        return await submission.RequestDispatchAsync(job, cancellationToken);
    }

    private async Task<bool> AllShardsDoneAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var snapshot = await progress.GetSnapshotAsync(job.JobId, () => state.ReadShardOutcomeTotalsAsync(job, cancellationToken));
        return snapshot.ShardsDone >= job.ShardCount;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweep: dispatch asked again for {Requested} jobs, {Finalized} jobs finished, {Deleted} expired jobs removed")]
    private partial void LogSwept(int requested, int finalized, int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep failed ({Error}: {Reason}); the next pass tries again")]
    private partial void LogSweepFailed(string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} finished at {CompletedAt} and is past its retention: its state was removed")]
    private partial void LogExpired(Guid jobId, DateTimeOffset completedAt);
}

public sealed record SweepResult(int DispatchRequested, int Finalized, int Deleted)
{
    public bool Any => DispatchRequested + Finalized + Deleted > 0;
}
