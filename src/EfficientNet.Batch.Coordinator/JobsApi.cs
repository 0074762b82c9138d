using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Messaging;
using EfficientNet.Batch.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Coordinator;

/// <summary>Body of <c>POST /jobs</c>. Every member is optional here so that a missing one is reported by name.</summary>
public sealed record JobRequest(
    string? Dataset,
    string? Model,
    string? Output,
    int? ShardSize,
    int? TopK,
    bool? RandomWeights,
    int? Seed);

public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs");
        jobs.MapPost("/", SubmitAsync);
        jobs.MapGet("/{id:guid}", GetAsync);
        jobs.MapGet("/", ListAsync);
        return app;
    }

    private static async Task<IResult> SubmitAsync(
        JobRequest? request,
        JobCoordinator coordinator,
        ISendEndpointProvider endpoints,
        IOptions<CoordinatorOptions> options,
        CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["A JSON body is required."] });
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
        };

        JobRecord record;
        try
        {
            record = await coordinator.SubmitAsync(NewId.NextGuid(), spec, cancellationToken);
        }
        catch (JobValidationException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["job"] = [.. e.Errors] }, title: "The job request is invalid.");
        }

        var endpoint = await endpoints.GetSendEndpoint(new Uri($"queue:{QueueNames.SubmitJob}"));
        await endpoint.Send(new SubmitJob(record.JobId, record.Spec), cancellationToken);
        return TypedResults.Accepted($"/jobs/{record.JobId}", JobStatusView.From(record, new JobProgressSnapshot(0, 0, 0)));
    }

    private static async Task<IResult> GetAsync(Guid id, JobCoordinator coordinator, CancellationToken cancellationToken)
    {
        var view = await coordinator.GetStatusAsync(id, cancellationToken);
        return view is null ? TypedResults.NotFound() : TypedResults.Ok(view);
    }

    private static async Task<IResult> ListAsync(JobCoordinator coordinator, CancellationToken cancellationToken)
    {
        var records = new List<JobRecord>();
        await foreach (var record in coordinator.ListAsync(cancellationToken))
        {
            records.Add(record);
        }

        return TypedResults.Ok(records
            .OrderByDescending(r => r.SubmittedAt)
            .Select(r => new { r.JobId, r.Status, r.Spec.Model, r.Spec.Dataset, r.Output, r.ImageCount, r.SubmittedAt, r.CompletedAt }));
    }
}
