using System.Security.Claims;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Schedules;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Coordinator.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EfficientNet.Batch.Coordinator;

/// <summary>The schedule routes: create, list, read, pause / resume / re-time, remove, trigger. Writing needs
/// <c>schedules:write</c>, reading <c>jobs:read</c>. A schedule belongs to its creator like a job: another identity's
/// schedule is answered 404, exactly like a missing one, unless the caller is admin.</summary>
public static class SchedulesApi
{
    private const string InvalidTitle = "The schedule request is invalid.";

    public static IEndpointRouteBuilder MapSchedulesApi(this IEndpointRouteBuilder app)
    {
        var schedules = app.MapGroup("/schedules").WithTags("Schedules");
        schedules.MapPost("/", CreateAsync)
            .WithName("CreateSchedule")
            .WithSummary("Create a schedule: a job submitted at each due time of a cron (5 or 6 fields) in a time zone")
            .RequireAuthorization(Scopes.SchedulesWrite);
        schedules.MapGet("/", ListAsync)
            .WithName("ListSchedules")
            .WithSummary("Schedules, oldest first; the caller's own unless admin")
            .RequireAuthorization(Scopes.JobsRead);
        schedules.MapGet("/{id:guid}", GetAsync)
            .WithName("GetSchedule")
            .WithSummary("A schedule with its next due time and its recent runs (due time, job, status, reason when skipped)")
            .RequireAuthorization(Scopes.JobsRead);
        schedules.MapPatch("/{id:guid}", UpdateAsync)
            .WithName("UpdateSchedule")
            .WithSummary("Pause, resume or re-time a schedule (due times of a paused period are not replayed)")
            .RequireAuthorization(Scopes.SchedulesWrite);
        schedules.MapDelete("/{id:guid}", DeleteAsync)
            .WithName("DeleteSchedule")
            .WithSummary("Remove a schedule and its run records (its jobs stay)")
            .RequireAuthorization(Scopes.SchedulesWrite);
        schedules.MapPost("/{id:guid}/trigger", TriggerAsync)
            .WithName("TriggerSchedule")
            .WithSummary("Run a schedule now (a run with due time now, exactly once)")
            .RequireAuthorization(Scopes.SchedulesWrite);
        return app;
    }

    private static async Task<Results<Created<ScheduleView>, ValidationProblem>> CreateAsync(
        ScheduleRequest? request, ClaimsPrincipal user, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["A JSON body is required."] }, title: InvalidTitle);
        }

        try
        {
            var schedule = await schedules.CreateAsync(request, user.Id(), cancellationToken);
            return TypedResults.Created($"/schedules/{schedule.Id}", await schedules.ViewAsync(schedule, withRuns: false, cancellationToken));
        }
        catch (ScheduleValidationException e)
        {
            return Invalid(e);
        }
    }

    private static async Task<Ok<ScheduleList>> ListAsync(ClaimsPrincipal user, ScheduleService schedules, CancellationToken cancellationToken)
    {
        var views = new List<ScheduleView>();
        foreach (var schedule in await schedules.ListAsync(user.ListFilter(), cancellationToken))
        {
            views.Add(await schedules.ViewAsync(schedule, withRuns: false, cancellationToken));
        }

        return TypedResults.Ok(new ScheduleList(views));
    }

    private static async Task<Results<Ok<ScheduleView>, ProblemHttpResult>> GetAsync(
        Guid id, ClaimsPrincipal user, ScheduleService schedules, CancellationToken cancellationToken) =>
        await schedules.GetAsync(id, cancellationToken) is { } schedule && user.MaySee(schedule.CreatedBy)
            ? TypedResults.Ok(await schedules.ViewAsync(schedule, withRuns: true, cancellationToken))
            : NotFound(id);

    private static async Task<Results<Ok<ScheduleView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, ScheduleUpdate? update, ClaimsPrincipal user, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (update is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["A JSON body is required."] }, title: InvalidTitle);
        }

        if (!await MaySeeAsync(user, id, schedules, cancellationToken))
        {
            return NotFound(id);
        }

        try
        {
            return await schedules.UpdateAsync(id, update, cancellationToken) is { } updated
                ? TypedResults.Ok(await schedules.ViewAsync(updated, withRuns: true, cancellationToken))
                : NotFound(id);
        }
        catch (ScheduleValidationException e)
        {
            return Invalid(e);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, ClaimsPrincipal user, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (!await MaySeeAsync(user, id, schedules, cancellationToken))
        {
            return NotFound(id);
        }

        return await schedules.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : NotFound(id);
    }

    private static async Task<Results<Accepted<ScheduleTriggered>, ValidationProblem, ProblemHttpResult>> TriggerAsync(
        Guid id, ClaimsPrincipal user, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (await schedules.GetAsync(id, cancellationToken) is not { } schedule || !user.MaySee(schedule.CreatedBy))
        {
            return NotFound(id);
        }

        try
        {
            var start = await schedules.TriggerAsync(schedule, cancellationToken);
            var jobId = start.Run.JobId!.Value;
            return TypedResults.Accepted($"/jobs/{jobId}", new ScheduleTriggered(jobId, start.Run.DueAt));
        }
        catch (JobValidationException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["job"] = [.. e.Errors] }, title: "The schedule's job is invalid.");
        }
        catch (JobLimitException e)
        {
            return SubmissionProblems.TooManyJobs(e);
        }
        catch (OutputConflictException e)
        {
            return SubmissionProblems.OutputTaken(e);
        }
    }

    private static async Task<bool> MaySeeAsync(ClaimsPrincipal user, Guid id, ScheduleService schedules, CancellationToken cancellationToken) =>
        await schedules.GetAsync(id, cancellationToken) is { } schedule && user.MaySee(schedule.CreatedBy);

    private static ValidationProblem Invalid(ScheduleValidationException e) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["schedule"] = [.. e.Errors] }, title: InvalidTitle);

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"No schedule {id} exists.", statusCode: StatusCodes.Status404NotFound, title: "Schedule not found.");
}
