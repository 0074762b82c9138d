using System.Diagnostics;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>
/// The one entry path of a job, shared by <c>POST /jobs</c> and <c>effnet run</c>: validates the request, claims the
/// output, stores the record and asks for dispatch. The record is durable before dispatch is asked for, so when the
/// broker does not take the request within <see cref="CoordinatorOptions.SubmitTimeout"/> the job is still accepted
/// and <see cref="JobSweeper"/> dispatches it later.
/// </summary>
public sealed partial class JobSubmission(
    JobStateStore state,
    JobSpecValidator validator,
    OutputOwnership ownership,
    IDispatchRequester dispatch,
    IOptions<CoordinatorOptions> options,
    IOptions<JobLimitsOptions> limits,
    TimeProvider clock,
    ILogger<JobSubmission> logger) : IDisposable
{
    // Output claims are checked and written one at a time, so two concurrent submissions cannot both claim a location.
    private readonly SemaphoreSlim _claims = new(1, 1);

    public void Dispose() => _claims.Dispose();

    /// <summary>Stores a new job of <paramref name="submittedBy"/> and asks for its dispatch. Throws
    /// <see cref="JobValidationException"/> for a bad request, <see cref="OutputConflictException"/> when the output
    /// belongs to another job and <see cref="JobLimitException"/> when the submitter already has
    /// <see cref="JobLimitsOptions.MaxConcurrentJobsPerIdentity"/> unfinished jobs.</summary>
    /// <param name="origin">Where the job comes from when not submitted directly: its schedule and due time, and the
    /// previous run an incremental job reuses.</param>
    /// <remarks>The whole submission is the job's root span, whose context the record keeps (<see cref="JobTracing"/>).</remarks>
    public async Task<JobRecord> SubmitAsync(
        Guid jobId, JobSpec spec, bool overwrite, CancellationToken cancellationToken, string? submittedBy = null, JobOrigin? origin = null)
    {
        using var activity = JobTracing.StartSubmit(jobId, spec, origin?.ScheduleId);
        try
        {
            return await SubmitTracedAsync(jobId, spec, overwrite, submittedBy, origin, activity, cancellationToken);
        }
        catch (Exception e)
        {
            JobTracing.Fail(activity, e.Message);
            throw;
        }
    }

    /// <summary>The submission proper, under the job's root span <paramref name="activity"/> (null when nothing listens).</summary>
    private async Task<JobRecord> SubmitTracedAsync(
        Guid jobId, JobSpec spec, bool overwrite, string? submittedBy, JobOrigin? origin, Activity? activity, CancellationToken cancellationToken)
    {
        var errors = await validator.ValidateAsync(spec, cancellationToken);
        if (errors.Count > 0)
        {
            throw new JobValidationException(errors);
        }

        var output = spec.Output ?? StorageKeys.JoinLocation(options.Value.OutputLocation, jobId.ToString("N"));
        var index = await state.LoadIndexAsync(cancellationToken);
        JobRecord record;
        await _claims.WaitAsync(cancellationToken);
        try
        {
            var unfinished = index.CountUnfinished(submittedBy);
            if (unfinished >= limits.Value.MaxConcurrentJobsPerIdentity)
            {
                throw new JobLimitException(
                    $"{submittedBy ?? "This caller"} already has {unfinished} unfinished jobs, the most allowed " +
                    $"({JobLimitsOptions.SectionName}:{nameof(JobLimitsOptions.MaxConcurrentJobsPerIdentity)}); wait for one to finish or cancel one.");
            }

            var jobs = index.All();
            if (ownership.FindConflict(output, overwrite, jobs) is { } conflict)
            {
                throw new OutputConflictException(conflict);
            }

            record = new JobRecord
            {
                JobId = jobId,
                Spec = spec,
                Status = JobStatus.Submitted,
                Output = output,
                SubmittedAt = clock.GetUtcNow(),
                SubmittedBy = submittedBy,
                ScheduleId = origin?.ScheduleId,
                DueAt = origin?.DueAt,
                BaselineJobId = origin?.BaselineJobId,
                BaselineLocation = origin?.BaselineLocation,
                TraceParent = activity?.Id,
                TraceState = activity?.TraceStateString,
            };
            await state.CreateAsync(record, cancellationToken);
            foreach (var previous in ownership.TakenOver(output, jobs))
            {
                await state.UpdateAsync(previous.JobId, r => r with { OutputTakenOverBy = jobId }, cancellationToken);
                LogTakenOver(jobId, previous.JobId);
            }
        }
        finally
        {
            _claims.Release();
        }

        LogSubmitted(jobId, spec.Model, spec.Priority, Quote.Input(spec.Dataset));
        await RequestDispatchAsync(record, cancellationToken);
        return record;
    }

    /// <summary>Asks the bus to dispatch a stored job, waiting at most <see cref="CoordinatorOptions.SubmitTimeout"/>.
    /// Returns false when the broker did not take the request; the job stays <c>Submitted</c> and the sweep asks again.</summary>
    public async Task<bool> RequestDispatchAsync(JobRecord record, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.SubmitTimeout);
        try
        {
            await dispatch.RequestAsync(new SubmitJob(record.JobId, record.Spec), timeout.Token);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever the broker does (down, blocked, refusing), the job is stored: it is dispatched later, not lost.
            Activity.Current?.AddEvent(new ActivityEvent(JobTracing.Events.DispatchDeferred));
            LogDispatchDeferred(record.JobId, options.Value.SubmitTimeout.TotalSeconds, e.GetType().Name, e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} submitted: model {Model}, priority {Priority}, dataset {Dataset}")]
    private partial void LogSubmitted(Guid jobId, string model, JobPriority priority, string dataset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} takes over the output of finished job {Previous}")]
    private partial void LogTakenOver(Guid jobId, Guid previous);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId} is stored, but the broker did not take its dispatch request within {Seconds} s ({Error}: {Reason}); the sweep dispatches it once the broker is back")]
    private partial void LogDispatchDeferred(Guid jobId, double seconds, string error, string reason);
}

/// <summary>Where a job comes from when it is not submitted directly.</summary>
/// <param name="ScheduleId">The schedule that started it.</param>
/// <param name="DueAt">The due time of that schedule it runs for.</param>
/// <param name="BaselineJobId">An incremental job's previous run (a job of this coordinator).</param>
/// <param name="BaselineLocation">An incremental job's previous run given as an output location.</param>
public sealed record JobOrigin(string? ScheduleId = null, DateTimeOffset? DueAt = null, Guid? BaselineJobId = null, string? BaselineLocation = null);

public sealed class JobValidationException(IReadOnlyList<string> errors)
    : Exception("The job request is invalid: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>The requested output overlaps another job's output or the coordinator's state.</summary>
public sealed class OutputConflictException(OutputConflict conflict) : Exception(conflict.Message)
{
    public OutputConflict Conflict { get; } = conflict;
}

/// <summary>A per-identity limit refuses the request (answered 429).</summary>
public sealed class JobLimitException(string message) : Exception(message);
