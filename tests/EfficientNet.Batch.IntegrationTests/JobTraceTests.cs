using EfficientNet.Batch.Components.Telemetry;
using Xunit.Abstractions;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// One job is one trace across processes: the coordinator and a worker run as separate OS processes (the hosts the
/// deployments run, with their own telemetry set-up), talk only through RabbitMQ, and export their spans over OTLP to
/// <see cref="OtlpTraceReceiver"/>, which keeps which process exported each span. The trace context can reach the
/// worker only in the shard messages' headers.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class JobTraceTests(InfrastructureFixture infrastructure, ITestOutputHelper output) : IAsyncLifetime
{
    // A host's service.name is its application (project) name.
    private const string Coordinator = JobCluster.Coordinator;
    private const string Worker = JobCluster.Worker;

    private readonly JobCluster _cluster = new(infrastructure, output);
    private readonly OtlpTraceReceiver _receiver = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_job_is_one_connected_trace_across_the_coordinator_and_worker_processes()
    {
        var dataset = await _cluster.UploadDatasetAsync(JobCluster.Photos(skip: 700, take: 6));
        var coordinator = await _cluster.StartAsync(Coordinator, "coordinator", _receiver.HostSettings);
        await _cluster.StartAsync(Worker, "worker", _receiver.HostSettings);

        var id = (await _cluster.SubmitAsync(coordinator, dataset, shardSize: 2))["jobId"]!.GetValue<Guid>();
        Assert.Equal("Completed", JobCluster.Status(await _cluster.WaitForTerminalStatusAsync(coordinator, id)));
        var jobId = id.ToString();
        var spans = await _receiver.WaitForAsync(
            all =>
            {
                var submit = all.FirstOrDefault(s => s.Name == JobTracing.Spans.Submit && s.Attribute(JobTracing.Tags.JobId) == jobId);
                return submit is not null
                    && all.Any(s => s.Name == JobTracing.Spans.Merge && s.Attribute(JobTracing.Tags.JobId) == jobId)
                    && all.Count(s => s.Name == JobTracing.Spans.ShardClassify && s.Attribute(JobTracing.Tags.JobId) == jobId) == 3
                    && IsConnected(all.Where(s => s.TraceId == submit.TraceId).ToList());
            },
            TimeSpan.FromSeconds(60));
        output.WriteLine(string.Join(Environment.NewLine, spans.Select(s => $"{s.Service} {s.TraceId} {s.SpanId} <- {s.ParentSpanId} {s.Name}")));

        // The job's root is the coordinator's submission, and every span of the job, whichever process exported it,
        // is in its trace.
        var root = Assert.Single(spans, s => s.Name == JobTracing.Spans.Submit && s.Attribute(JobTracing.Tags.JobId) == jobId);
        Assert.Equal(Coordinator, root.Service);
        Assert.True(root.IsRoot);
        var ofJob = spans.Where(s => s.Attribute(JobTracing.Tags.JobId) == jobId).ToList();
        Assert.All(ofJob, s => Assert.Equal(root.TraceId, s.TraceId));
        var trace = spans.Where(s => s.TraceId == root.TraceId).ToList();
        Assert.Equal(root, Assert.Single(trace, s => s.IsRoot));
        Assert.True(IsConnected(trace), "a span of the job's trace has a parent no process exported");

        // Both processes contributed; each exported only its own part.
        var dispatch = Assert.Single(trace, s => s.Name == JobTracing.Spans.Dispatch);
        var merge = Assert.Single(trace, s => s.Name == JobTracing.Spans.Merge);
        Assert.All(new[] { dispatch, merge }, s => Assert.Equal(Coordinator, s.Service));
        Assert.Equal(root.SpanId, dispatch.ParentSpanId);
        Assert.Equal(root.SpanId, merge.ParentSpanId);
        var shards = trace.Where(s => s.Name == JobTracing.Spans.ShardClassify).ToList();
        Assert.Equal(new[] { "0", "1", "2" }, shards.Select(s => s.Attribute(JobTracing.Tags.ShardIndex)!).Order(StringComparer.Ordinal));
        Assert.All(shards, shard =>
        {
            Assert.Equal(Worker, shard.Service);
            // Up from the shard: the worker's own spans (consume, receive), then the first span the coordinator
            // exported is the send of the shard's message, a child of the dispatch.
            var ancestors = Ancestors(shard, trace).ToList();
            var fromCoordinator = ancestors.First(a => a.Service == Coordinator);
            Assert.Equal(ReceivedSpan.Producer, fromCoordinator.Kind);
            Assert.All(ancestors.TakeWhile(a => a != fromCoordinator), a => Assert.Equal(Worker, a.Service));
            Assert.Contains(dispatch, ancestors);
        });
    }

    private static IEnumerable<ReceivedSpan> Ancestors(ReceivedSpan span, IReadOnlyList<ReceivedSpan> trace)
    {
        var byId = trace.ToDictionary(s => s.SpanId);
        for (var parent = span.ParentSpanId; byId.TryGetValue(parent, out var next); parent = next.ParentSpanId)
        {
            yield return next;
        }
    }

    private static bool IsConnected(IReadOnlyList<ReceivedSpan> trace)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        return trace.All(s => s.IsRoot || ids.Contains(s.ParentSpanId));
    }
}
