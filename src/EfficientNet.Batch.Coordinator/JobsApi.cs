using System.Security.Claims;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Coordinator.Security;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator;

/// <summary>The job routes: submit, read, list, cancel, delete. Every 4xx and 5xx is <c>application/problem+json</c>.
/// Each route needs its scope; a caller sees only the jobs it submitted (another's job is a 404) unless it is admin.</summary>
public static class JobsApi
{
    public const int DefaultPageSize = 50;

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/", SubmitAsync)
            .WithName("SubmitJob")
            .WithSummary("Submit a labeling job")
            .WithDescription("Validates and stores the job, then asks for its dispatch. When the broker does not take the request " +
                "within Coordinator:SubmitTimeout the job is still accepted (202) and dispatched once the broker is back; when " +
                "the state store cannot store it, the answer is 503 with Retry-After.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireAuthorization(Scopes.JobsSubmit)
            .RequireRateLimiting(SecurityRegistration.SubmitRateLimit);
        jobs.MapGet("/{id:guid}", GetAsync)
            .WithName("GetJob")
            .WithSummary("A job's status and live progress (images/s, ETA, shards queued / running / done / failed)")
            .RequireAuthorization(Scopes.JobsRead);
        jobs.MapGet("/", ListAsync)
            .WithName("ListJobs")
            .WithSummary("Jobs, newest first, a page at a time (from the coordinator's index: no storage scan); the caller's own unless admin")
            .RequireAuthorization(Scopes.JobsRead);
        jobs.MapPost("/{id:guid}/cancel", CancelAsync)
            .WithName("CancelJob")
            .WithSummary("Cancel a job (idempotent): queued shards are skipped, running ones stop, committed ones are merged")
            .RequireAuthorization(Scopes.JobsCancel);
        jobs.MapDelete("/{id:guid}", DeleteAsync)
            .WithName("DeleteJob")
            .WithSummary("Remove a finished job's state (with outputs=true, its outputs too)")
            .RequireAuthorization(Scopes.JobsCancel);
        return app;
    }

    private static async Task<Results<Accepted<JobView>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        JobRequest? request,
        ClaimsPrincipal user,
        JobSubmission submission,
        JobStateStore state,
        IOptions<CoordinatorOptions> options,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["A JSON body is required."] }, title: "The job request is invalid.");
        }

        var spec = new JobSpec
        {
            Dataset = request.Dataset ?? "",
            Model = request.Model ?? "",
            Output = request.Output,
            ShardSize = request.ShardSize ?? options.Value.DefaultShardSize,
            TopK = request.TopK ?? 5,
            RandomWeights = request.RandomWeights ?? false,
            Seed = request.Seed ?? 0,
            Priority = request.Priority ?? JobPriority.Normal,
            Incremental = request.RescoreFrom is not null,
            Outputs = request.Outputs,
            Review = request.Review,
        };

        if (request.RescoreFrom is { } previous && ((await state.LoadIndexAsync(cancellationToken)).Get(previous) is not { } baseline || !user.MaySee(baseline.SubmittedBy)))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["rescoreFrom"] = [$"There is no job {previous} of yours to re-score from."] }, title: "The job request is invalid.");
        }

        JobRecord record;
        try
        {
            record = await submission.SubmitAsync(
                NewId.NextGuid(), spec, request.Overwrite ?? false, cancellationToken, user.Id(), new JobOrigin(BaselineJobId: request.RescoreFrom));
        }
        catch (JobValidationException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["job"] = [.. e.Errors] }, title: "The job request is invalid.");
        }
        catch (JobLimitException e)
        {
            return SubmissionProblems.TooManyJobs(e);
        }
        catch (OutputConflictException e)
        {
            return SubmissionProblems.OutputTaken(e);
        }

        return TypedResults.Accepted($"/jobs/{record.JobId}", JobViews.From(record, JobProgressSnapshot.Empty, clock.GetUtcNow()));
    }

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal user, JobQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } view && user.MaySee(view.SubmittedBy) ? TypedResults.Ok(view) : NotFound(id);

    private static async Task<Results<Ok<JobListPage>, ValidationProblem>> ListAsync(
        ClaimsPrincipal user,
        JobQueries queries,
        JobStatus? status,
        int? limit,
        string? cursor,
        CancellationToken cancellationToken)
    {
        if (limit is < 1 or > JobQueries.MaxPageSize)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["limit"] = [$"'limit' must be between 1 and {JobQueries.MaxPageSize}, not {limit}."],
            });
        }

        try
        {
            return TypedResults.Ok(await queries.ListAsync(status, limit ?? DefaultPageSize, cursor, cancellationToken, user.ListFilter()));
        }
        catch (FormatException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["cursor"] = [e.Message] });
        }
    }

    private static async Task<Results<Accepted<CancelAccepted>, ProblemHttpResult>> CancelAsync(
        Guid id, ClaimsPrincipal user, JobStateStore state, JobCancellation cancellation, CancellationToken cancellationToken)
    {
        if (!await MaySeeAsync(user, id, state, cancellationToken))
        {
            return NotFound(id);
        }

        JobRecord record;
        try
        {
            record = await cancellation.CancelAsync(id, cancellationToken);
        }
        catch (Components.Jobs.JobNotFoundException)
        {
            return NotFound(id);
        }

        if (record.Status is not (JobStatus.Cancelling or JobStatus.Cancelled))
        {
            return TypedResults.Problem(
                $"Job {id} already ended as {record.Status}; there is nothing to cancel.",
                statusCode: StatusCodes.Status409Conflict,
                title: "The job has already finished.");
        }

        return TypedResults.Accepted($"/jobs/{id}", new CancelAccepted(id, record.Status));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, ClaimsPrincipal user, JobStateStore state, JobDeletion deletion, bool? outputs, CancellationToken cancellationToken)
    {
        if (!await MaySeeAsync(user, id, state, cancellationToken))
        {
            return NotFound(id);
        }

        try
        {
            return await deletion.DeleteAsync(id, outputs ?? false, cancellationToken) ? TypedResults.NoContent() : NotFound(id);
        }
        catch (JobNotFinishedException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "The job is not finished.");
        }
    }

    /// <summary>Another identity's job is answered exactly like a job that does not exist. Its submitter never changes,
    /// so the in-memory index answers without a storage read.</summary>
    private static async Task<bool> MaySeeAsync(ClaimsPrincipal user, Guid id, JobStateStore state, CancellationToken cancellationToken) =>
        (await state.LoadIndexAsync(cancellationToken)).Get(id) is { } record && user.MaySee(record.SubmittedBy);

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"No job {id} exists (or its state was removed).", statusCode: StatusCodes.Status404NotFound, title: "Job not found.");
}
