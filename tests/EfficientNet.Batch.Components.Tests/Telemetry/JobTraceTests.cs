using System.Diagnostics;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Tests.Telemetry;

/// <summary>One job, one trace: coordinator and worker consumers on MassTransit's in-memory bus (the trace context goes
/// in the message headers, as on RabbitMQ), spans collected by OpenTelemetry's in-memory exporter.</summary>
public sealed class JobTraceTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("effnet-models-").FullName;
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-work-").FullName;
    private readonly string _dataset = TestData.DatasetOf(TestData.FirstPhotos(5).Select(p => (p, Path.GetFileName(p))));

    public void Dispose()
    {
        foreach (var dir in new[] { _models, _work, _dataset })
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_job_is_one_connected_trace_from_submission_through_every_shard_to_the_merge()
    {
        using var spans = new SpanCollector();
        using var host = InMemoryBusJobTests.BuildHost(_models, _work);
        await host.StartAsync();

        var job = await InMemoryBusJobTests.RunJobAsync(
            host, new JobSpec { Dataset = _dataset, Model = "efficientnet_b0", RandomWeights = true, ShardSize = 2 });

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.True(JobTracing.TryGetContext(job, out var stored), $"no trace context stored on the job: '{job.TraceParent}'");
        // The merge ends inside the consume of the last shard event, which it links: wait for that one too.
        var trace = await spans.WaitForTraceAsync(
            stored.TraceId,
            t => t.Count(s => s.OperationName == JobTracing.Spans.ShardClassify) == job.ShardCount
                && t.Any(s => s.OperationName == JobTracing.Spans.Merge)
                && t.Where(s => s.OperationName == JobTracing.Spans.Merge).SelectMany(s => s.Links).All(l => t.Any(s => s.SpanId == l.Context.SpanId))
                && TraceReading.IsConnected(t));
        await host.StopAsync();

        // Every span of this job, in whatever trace it landed, is in the job's trace.
        var ofJob = spans.All.Where(s => s.JobId() == job.JobId.ToString()).ToList();
        Assert.All(ofJob, s => Assert.Equal(stored.TraceId, s.TraceId));
        var names = ofJob.Select(s => s.OperationName).ToList();
        Assert.Equal(1, names.Count(n => n == JobTracing.Spans.Submit));
        Assert.Equal(1, names.Count(n => n == JobTracing.Spans.Dispatch));
        Assert.Equal(1, names.Count(n => n == JobTracing.Spans.Merge));
        Assert.Equal(3, job.ShardCount);
        var shards = ofJob.Where(s => s.OperationName == JobTracing.Spans.ShardClassify).ToList();
        Assert.Equal(new[] { 0, 1, 2 }, shards.Select(s => (int)s.GetTagItem(JobTracing.Tags.ShardIndex)!).Order());

        // One root, the submission, whose span is the context the record keeps; nothing hangs off a missing span.
        var root = Assert.Single(trace, s => s.ParentSpanId == default);
        Assert.Equal(JobTracing.Spans.Submit, root.OperationName);
        Assert.Equal(stored.SpanId, root.SpanId);
        Assert.True(TraceReading.IsConnected(trace), "a span's parent is not in the trace");

        // Dispatch and merge are the job's phases, children of its root; each shard descends from the dispatch through
        // the send, receive and consume spans of its message.
        var dispatch = Assert.Single(trace, s => s.OperationName == JobTracing.Spans.Dispatch);
        var merge = Assert.Single(trace, s => s.OperationName == JobTracing.Spans.Merge);
        Assert.Equal(root.SpanId, dispatch.ParentSpanId);
        Assert.Equal(root.SpanId, merge.ParentSpanId);
        Assert.All(shards, shard =>
        {
            var ancestors = shard.Ancestors(trace).ToList();
            Assert.Contains(dispatch, ancestors);
            Assert.Contains(ancestors.TakeWhile(a => a != dispatch), a => a.Kind == ActivityKind.Producer);
        });

        // The merge links the shard event whose consume triggered it.
        var trigger = Assert.Single(merge.Links).Context;
        var consume = Assert.Single(trace, s => s.SpanId == trigger.SpanId);
        Assert.Equal(ActivityKind.Consumer, consume.Kind);
        Assert.Equal("Completed", merge.GetTagItem(JobTracing.Tags.Status));
    }
}
