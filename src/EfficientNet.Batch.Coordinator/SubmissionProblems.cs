using EfficientNet.Batch.Components.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EfficientNet.Batch.Coordinator;

/// <summary>The problem answers of a refused job submission, the same from <c>POST /jobs</c> and a schedule's trigger.</summary>
internal static class SubmissionProblems
{
    public static ProblemHttpResult TooManyJobs(JobLimitException e) =>
        TypedResults.Problem(e.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many unfinished jobs.");

    public static ProblemHttpResult OutputTaken(OutputConflictException e) =>
        TypedResults.Problem(
            e.Conflict.Message,
            statusCode: StatusCodes.Status409Conflict,
            title: "The output belongs to another job.",
            extensions: e.Conflict.Job is { } other ? new Dictionary<string, object?> { ["conflictingJobId"] = other.JobId } : null);
}
