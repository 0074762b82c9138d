using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Components.Tests.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>
/// The coordinator's job flow without a bus or workers: the bus is replaced by recording fakes, and the tests play the
/// workers' part by writing shard results and calling the recorder, in whatever order a real broker could deliver.
/// </summary>
public sealed class CoordinatorFlowTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-flow-").FullName;
    private readonly string _dataset;
    private readonly FakeBus _bus = new();
    private readonly ServiceProvider _services;

    public CoordinatorFlowTests()
    {
        _dataset = TestData.DatasetOf(TestData.FirstPhotos(5).Select(p => (p, Path.GetFileName(p))));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:StateLocation"] = Path.Combine(_work, "state"),
            ["Coordinator:OutputLocation"] = Path.Combine(_work, "results"),
            ["Coordinator:SubmitTimeout"] = "00:00:00.300",
            ["Coordinator:CancelGracePeriod"] = "00:00:00",
            ["Coordinator:FinalizeLeaseTimeout"] = "00:00:03",
            ["Coordinator:Retention"] = "01:00:00",
            // Every second outcome is folded into the job's stored totals, so the flows below mix both.
            ["Coordinator:OutcomeTotalsBatch"] = "2",
            ["Coordinator:AllowedDatasets:0"] = _dataset,
            ["Coordinator:AllowedOutputs:0"] = _work,
        });
        builder.AddCoordinatorComponents();
        builder.Services.Replace(ServiceDescriptor.Singleton<IShardDispatcher>(_bus));
        builder.Services.Replace(ServiceDescriptor.Singleton<IDispatchRequester>(_bus));
        builder.Services.Replace(ServiceDescriptor.Singleton<IJobEventPublisher>(_bus));
        builder.Services.AddSingleton<IHostApplicationLifetime, TestLifetime>();
        _services = builder.Services.BuildServiceProvider();
    }

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_work, recursive: true);
        Directory.Delete(_dataset, recursive: true);
    }

    private T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    private JobSpec Spec(string? output = null, int shardSize = 2) =>
        new() { Dataset = _dataset, Model = "efficientnet_b0", RandomWeights = true, ShardSize = shardSize, Output = output };

    /// <summary>Submits (the fake bus takes the request) and dispatches a job: 5 images in 3 shards.</summary>
    private async Task<JobRecord> DispatchedJobAsync(string? output = null)
    {
        var record = await Get<JobSubmission>().SubmitAsync(NewId.NextGuid(), Spec(output), overwrite: false, CancellationToken.None);
        await Get<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None);
        return (await Get<JobStateStore>().GetAsync(record.JobId, CancellationToken.None))!;
    }

    /// <summary>What a worker does for a shard: commit its result lines, then report.</summary>
    private async Task ClassifyAsync(JobRecord job, int shard, string worker = "w1")
    {
        var message = await CommitShardAsync(job, shard);
        await Get<ShardOutcomeRecorder>().OnClassifiedAsync(
            new ShardClassified(job.JobId, shard, "x", message.Images.Count, 0, worker, 0.1), CancellationToken.None);
    }

    /// <summary>A worker's part of a shard: its result lines, committed under the shard's result name.</summary>
    private async Task<ClassifyShard> CommitShardAsync(JobRecord job, int shard)
    {
        var message = _bus.Shards.Single(s => s.JobId == job.JobId && s.ShardIndex == shard);
        var folder = Path.Combine(job.Output, "shards", job.JobId.ToString("N"));
        Directory.CreateDirectory(folder);
        await File.WriteAllLinesAsync(
            Path.Combine(job.Output, message.ResultKey),
            message.Images.Select(i => $$"""{"path":"{{i.Path}}","top":[{"index":1,"name":"goldfish","probability":0.5}]}"""));
        return message;
    }

    /// <summary>The trace context a job submitted by an earlier coordinator process left on its record.</summary>
    private static ActivityContext EarlierProcessContext() =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

    private static string TraceParent(ActivityContext context) => $"00-{context.TraceId}-{context.SpanId}-01";

    private Task<JobRecord?> ReadAsync(Guid id) => Get<JobStateStore>().GetAsync(id, CancellationToken.None);

    /// <summary>For what runs in the background (the close after a cancel's grace period).</summary>
    private async Task<JobRecord> WaitForTerminalAsync(Guid id)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await ReadAsync(id) is { IsTerminal: true } record)
            {
                return record;
            }

            await Task.Delay(50);
        }

        return (await ReadAsync(id))!;
    }

    private static List<string> Lines(JobRecord job) => [.. File.ReadAllLines(Path.Combine(job.Output, "predictions.jsonl"))];

    [Fact]
    public async Task Recorded_outcomes_are_folded_into_the_jobs_stored_totals_which_a_restarted_coordinator_reads()
    {
        var job = await DispatchedJobAsync();
        var totalsFile = Path.Combine(_work, "state", "totals", $"{job.JobId:N}.json");

        // The first outcome loads the tracker from the totals (storing what it read); the second fills the batch of 2.
        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 2, worker: "w2");

        var stored = JsonNode.Parse(await File.ReadAllTextAsync(totalsFile))!;
        Assert.Equal(3, (int)stored["shardCount"]!);
        Assert.Equal([1, 0, 1], Convert.FromBase64String((string)stored["states"]!).Select(b => (int)b));
        // The outcome objects of the folded shards are not what a new coordinator reads: remove them to prove it.
        File.Delete(Path.Combine(_work, "state", "shards", job.JobId.ToString("N"), "000000.json"));
        var restarted = new JobQueries(Get<JobStateStore>(), new JobProgressTracker(TimeProvider.System), TimeProvider.System);
        var view = (await restarted.GetAsync(job.JobId, CancellationToken.None))!;
        Assert.Equal((2, 3L), (view.ShardsDone, view.ImagesOk));

        await ClassifyAsync(job, 1);
        var done = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done!.Status);
        Assert.Equal(5, Lines(done).Count);
    }

    [Fact]
    public async Task Shards_are_sent_at_the_jobs_priority_with_job_scoped_result_names_and_a_cancel_marker()
    {
        var record = await Get<JobSubmission>().SubmitAsync(
            NewId.NextGuid(), Spec() with { Priority = JobPriority.High }, overwrite: false, CancellationToken.None);
        await Get<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None);

        Assert.Equal(3, _bus.Shards.Count);
        Assert.All(_bus.Priorities, p => Assert.Equal(JobPriority.High, p));
        Assert.All(_bus.Shards, s => Assert.StartsWith($"shards/{record.JobId:N}/", s.ResultKey, StringComparison.Ordinal));
        Assert.All(_bus.Shards, s => Assert.Equal($"shards/{record.JobId:N}/cancelled", s.CancelMarkerKey));
        var stored = await ReadAsync(record.JobId);
        Assert.NotNull(stored!.PlannedAt);
        Assert.NotNull(stored.DispatchedAt);
    }

    [Fact]
    public async Task A_dispatch_stopped_mid_way_resumes_from_the_stored_plan_without_listing_the_dataset_again()
    {
        // 150 shards of one image: pages of 64, 64 and 22 shards. The second page's send dies.
        var manifest = Path.Combine(_dataset, "many.csv");
        await File.WriteAllLinesAsync(manifest, ["path,label", .. Enumerable.Range(0, 150).Select(i => $"img{i:D3}.jpg,{i % 1000}")]);
        var record = await Get<JobSubmission>().SubmitAsync(NewId.NextGuid(), Spec(shardSize: 1) with { Dataset = manifest }, overwrite: false, CancellationToken.None);
        _bus.FailingSend = 2;

        await Assert.ThrowsAsync<InvalidOperationException>(() => Get<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None));

        var stopped = (await ReadAsync(record.JobId))!;
        Assert.Equal((150, 3, 1), (stopped.ShardCount, stopped.PlanPages, stopped.DispatchedPages));
        Assert.Null(stopped.DispatchedAt);
        Assert.Equal(64, _bus.Shards.Count);

        // Gone: a resumed dispatch that listed it again would fail the job.
        File.Delete(manifest);
        _bus.FailingSend = null;
        await Get<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None);

        var dispatched = (await ReadAsync(record.JobId))!;
        Assert.Equal(JobStatus.Running, dispatched.Status);
        Assert.NotNull(dispatched.DispatchedAt);
        Assert.Equal(3, dispatched.DispatchedPages);
        Assert.Equal(Enumerable.Range(0, 150), _bus.Shards.Select(s => s.ShardIndex));
        Assert.All(_bus.Shards, s => Assert.Equal((150, $"img{s.ShardIndex:D3}.jpg", s.ShardIndex % 1000), (s.ShardCount, Assert.Single(s.Images).Path, Assert.Single(s.Images).Label)));
    }

    [Fact]
    public async Task A_bad_line_deep_in_a_streamed_manifest_fails_the_job_naming_it_and_leaves_no_plan_and_no_shard()
    {
        // Past the first page the lister hands over: that page was planned (stored) before the bad line was read.
        var manifest = Path.Combine(_dataset, "bad-late.csv");
        var lines = Enumerable.Range(0, DatasetLister.PageSize + 100).Select(i => $"img{i:D6}.jpg,{i % 1000}").ToList();
        lines[DatasetLister.PageSize + 50] = "late.jpg,not-a-class";
        await File.WriteAllLinesAsync(manifest, ["path,label", .. lines]);
        var record = await Get<JobSubmission>().SubmitAsync(NewId.NextGuid(), Spec(shardSize: 256) with { Dataset = manifest }, overwrite: false, CancellationToken.None);

        await Get<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None);

        var failed = (await ReadAsync(record.JobId))!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains($"line {DatasetLister.PageSize + 52}", failed.Error, StringComparison.Ordinal);
        Assert.Contains("not-a-class", failed.Error, StringComparison.Ordinal);
        Assert.Empty(_bus.Shards);
        Assert.False(Directory.Exists(Path.Combine(_work, "state", "plans", record.JobId.ToString("N"))), "the failed job's plan pages are still stored");
    }

    [Fact]
    public async Task The_stored_plan_is_removed_once_the_job_is_merged()
    {
        var job = await DispatchedJobAsync();
        var plan = Path.Combine(_work, "state", "plans", job.JobId.ToString("N"));
        Assert.Single(Directory.GetFiles(plan));

        foreach (var shard in new[] { 0, 1, 2 })
        {
            await ClassifyAsync(job, shard);
        }

        Assert.Equal(JobStatus.Completed, (await ReadAsync(job.JobId))!.Status);
        Assert.Equal(5, Lines(job).Count);
        Assert.False(Directory.Exists(plan) && Directory.EnumerateFileSystemEntries(plan).Any(), "the plan outlived the job");
    }

    [Fact]
    public async Task The_lister_hands_a_dataset_over_in_pages_in_order_and_the_plan_writer_cuts_them_into_stored_pages_of_shards()
    {
        var manifest = Path.Combine(_dataset, "pages.csv");
        var count = (2 * DatasetLister.PageSize) + 7;
        await File.WriteAllLinesAsync(manifest, ["path", .. Enumerable.Range(0, count).Select(i => $"img{i:D6}.jpg")]);
        var jobId = Guid.NewGuid();
        var writer = new ShardPlanWriter(Get<JobStateStore>(), jobId, shardSize: 100);
        var pages = new List<int>();

        var listed = await Get<DatasetLister>().StreamAsync(
            manifest,
            async (page, ct) =>
            {
                pages.Add(page.Count);
                await writer.AddAsync(page, ct);
            },
            CancellationToken.None);
        await writer.CompleteAsync(CancellationToken.None);

        Assert.Equal([DatasetLister.PageSize, DatasetLister.PageSize, 7], pages);
        Assert.Equal(count, listed.Images);
        var shards = (count + 99) / 100;
        Assert.Equal((count, shards, (shards + 63) / 64), (writer.Images, writer.Shards, writer.Pages));
        var stored = new List<ShardImage>();
        for (var page = 0; page < writer.Pages; page++)
        {
            var read = await Get<JobStateStore>().ReadPlanPageAsync(jobId, page, CancellationToken.None);
            Assert.Equal((page, page * ShardPlanWriter.ShardsPerPage), (read.Page, read.FirstShard));
            Assert.All(read.Shards.SkipLast(page == writer.Pages - 1 ? 1 : 0), shard => Assert.Equal(100, shard.Count));
            stored.AddRange(read.Shards.SelectMany(shard => shard));
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => $"img{i:D6}.jpg"), stored.Select(i => i.Path));
    }

    [Fact]
    public async Task A_job_completes_whatever_the_order_of_its_shard_events()
    {
        var job = await DispatchedJobAsync();

        await ClassifyAsync(job, 2);
        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 0); // redelivered
        await ClassifyAsync(job, 1);

        var done = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done!.Status);
        Assert.Equal(5, Lines(done).Count);
        Assert.Equal(5, Lines(done).Distinct().Count());
        Assert.Equal(5, done.Totals!.ImagesOk);
        Assert.Contains(_bus.Completed, c => c.JobId == job.JobId && c.Status == "Completed");
        // Once completed, the output holds the outputs only: the shard results and their folders are gone.
        Assert.Equal(
            ["predictions.jsonl", "summary.json"],
            Directory.EnumerateFileSystemEntries(job.Output, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_fault_after_a_committed_success_changes_nothing()
    {
        var job = await DispatchedJobAsync();
        await ClassifyAsync(job, 0);

        await Get<ShardOutcomeRecorder>().OnFaultedAsync(_bus.Shards.Single(s => s.JobId == job.JobId && s.ShardIndex == 0), "late duplicate", CancellationToken.None);
        await ClassifyAsync(job, 1);
        await ClassifyAsync(job, 2);

        var done = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done!.Status);
        Assert.DoesNotContain(Lines(done), l => l.Contains("shard-failed", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(job.Output, JobOutputLayout.FailedResultKey(job.JobId, 0))));
    }

    [Fact]
    public async Task A_success_after_a_fault_wins_and_the_job_has_no_error_records()
    {
        var job = await DispatchedJobAsync();
        await Get<ShardOutcomeRecorder>().OnFaultedAsync(_bus.Shards.Single(s => s.JobId == job.JobId && s.ShardIndex == 1), "worker died", CancellationToken.None);

        await ClassifyAsync(job, 1);
        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 2);

        var done = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done!.Status);
        Assert.Equal(5, Lines(done).Count(l => l.Contains("goldfish", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_merge_that_finds_the_wrong_number_of_lines_fails_the_job_loudly_and_publishes_nothing()
    {
        var job = await DispatchedJobAsync();
        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 1);
        // A shard result with a line missing (e.g. written by something else): the outcome says 1 image, the file has 0.
        var last = _bus.Shards.Single(s => s.JobId == job.JobId && s.ShardIndex == 2);
        await File.WriteAllTextAsync(Path.Combine(job.Output, last.ResultKey), "");
        await Get<ShardOutcomeRecorder>().OnClassifiedAsync(new ShardClassified(job.JobId, 2, "x", 1, 0, "w1", 0.1), CancellationToken.None);

        var failed = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Failed, failed!.Status);
        Assert.Contains("0 result lines", failed.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(job.Output, "predictions.jsonl")));
    }

    [Fact]
    public async Task A_cancelled_job_merges_the_committed_shards_and_counts_the_rest_as_not_classified()
    {
        var job = await DispatchedJobAsync();
        await ClassifyAsync(job, 0);

        var cancelling = await Get<JobCancellation>().CancelAsync(job.JobId, CancellationToken.None);
        Assert.Equal(JobStatus.Cancelling, cancelling.Status);
        Assert.True(File.Exists(Path.Combine(job.Output, JobOutputLayout.CancelMarkerKey(job.JobId))));
        Assert.Contains(_bus.Cancelled, c => c.JobId == job.JobId);
        await Get<JobSweeper>().SweepAsync(CancellationToken.None);

        var cancelled = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Cancelled, cancelled!.Status);
        Assert.Equal(2, Lines(cancelled).Count);
        Assert.Equal(3, cancelled.Totals!.ImagesNotClassified);
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(job.Output, "summary.json")))!;
        Assert.Equal("Cancelled", summary["status"]!.GetValue<string>());
        Assert.Equal(2, summary["imagesOk"]!.GetValue<long>());
        Assert.Equal(3, summary["imagesNotClassified"]!.GetValue<long>());
        Assert.Equal(5, summary["imagesPlanned"]!.GetValue<long>());
        // A cancelled job keeps its committed shard: the next run over this output resumes from it.
        Assert.True(File.Exists(Path.Combine(job.Output, JobOutputLayout.ResultKey(job.JobId, 0))));

        // Idempotent, and late events change nothing.
        Assert.Equal(JobStatus.Cancelled, (await Get<JobCancellation>().CancelAsync(job.JobId, CancellationToken.None)).Status);
        await ClassifyAsync(job, 1);
        Assert.Equal(2, Lines((await ReadAsync(job.JobId))!).Count);
    }

    [Fact]
    public async Task A_job_cancelled_before_dispatch_sends_no_shard()
    {
        var record = await Get<JobSubmission>().SubmitAsync(NewId.NextGuid(), Spec(), overwrite: false, CancellationToken.None);

        await Get<JobCancellation>().CancelAsync(record.JobId, CancellationToken.None);
        await Get<JobDispatcher>().DispatchAsync(record.JobId, CancellationToken.None);

        Assert.DoesNotContain(_bus.Shards, s => s.JobId == record.JobId);
        Assert.Equal(JobStatus.Cancelled, (await WaitForTerminalAsync(record.JobId)).Status);
    }

    [Fact]
    public async Task A_job_whose_dispatch_request_the_broker_did_not_take_is_accepted_at_once_and_dispatched_by_the_sweep()
    {
        _bus.BrokerDown = true;
        var started = DateTime.UtcNow;
        var record = await Get<JobSubmission>().SubmitAsync(NewId.NextGuid(), Spec(), overwrite: false, CancellationToken.None);

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        Assert.Equal(JobStatus.Submitted, (await ReadAsync(record.JobId))!.Status);
        Assert.Empty(await Get<JobSweeper>().SweepAsync(CancellationToken.None) is { DispatchRequested: 0 } ? [] : new[] { "requested while the broker is down" });

        _bus.BrokerDown = false;
        await Task.Delay(400); // past SubmitTimeout: the sweep leaves a just-submitted job to its own request
        var swept = await Get<JobSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, swept.DispatchRequested);
        Assert.Contains(_bus.DispatchRequests, r => r.JobId == record.JobId);
    }

    [Fact]
    public async Task The_sweep_finishes_a_job_whose_merge_was_interrupted_once_the_dead_mergers_lease_is_stale()
    {
        var job = await DispatchedJobAsync();
        var state = Get<JobStateStore>();
        // A coordinator died while merging: every shard is done, its lease is there, the job is still Running.
        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 1);
        Assert.True(await state.TryAcquireFinalizeLeaseAsync(job.JobId, "dead-coordinator", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(3), CancellationToken.None));
        await ClassifyAsync(job, 2);
        Assert.Equal(JobStatus.Running, (await ReadAsync(job.JobId))!.Status);

        var early = await Get<JobSweeper>().SweepAsync(CancellationToken.None);
        Assert.Equal(0, early.Finalized);
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        var late = await Get<JobSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, late.Finalized);
        Assert.Equal(JobStatus.Completed, (await ReadAsync(job.JobId))!.Status);
    }

    [Fact]
    public async Task A_merge_the_sweep_finishes_after_a_restart_continues_the_trace_the_job_started()
    {
        using var spans = new SpanCollector();
        var job = await DispatchedJobAsync();
        var state = Get<JobStateStore>();
        var earlier = EarlierProcessContext();
        await state.UpdateAsync(job.JobId, r => r with { TraceParent = TraceParent(earlier), TraceState = "effnet=test" }, CancellationToken.None);
        // The coordinator that recorded the last outcome died before it merged: no shard event will come again.
        for (var shard = 0; shard < 3; shard++)
        {
            var message = await CommitShardAsync(job, shard);
            await state.WriteShardOutcomeAsync(
                job.JobId, new ShardOutcome(shard, true, message.Images.Count, 0, "x", "w1", 0.1, null), CancellationToken.None);
        }

        var swept = await Get<JobSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, swept.Finalized);
        Assert.Equal(JobStatus.Completed, (await ReadAsync(job.JobId))!.Status);
        var merge = Assert.Single(spans.All, s => s.OperationName == JobTracing.Spans.Merge && s.JobId() == job.JobId.ToString());
        Assert.Equal(earlier.TraceId, merge.TraceId);
        Assert.Equal(earlier.SpanId, merge.ParentSpanId);
        Assert.Equal("effnet=test", merge.TraceStateString);
        Assert.Equal("Completed", merge.GetTagItem(JobTracing.Tags.Status));
    }

    [Fact]
    public async Task A_dispatch_the_sweep_asks_again_for_continues_the_trace_the_job_started()
    {
        using var spans = new SpanCollector();
        var earlier = EarlierProcessContext();
        var jobId = NewId.NextGuid();
        // Stored by a coordinator that died before it asked for the dispatch.
        await Get<JobStateStore>().CreateAsync(
            new JobRecord
            {
                JobId = jobId, Spec = Spec(), Status = JobStatus.Submitted, Output = Path.Combine(_work, "results", jobId.ToString("N")),
                SubmittedAt = DateTimeOffset.UtcNow.AddMinutes(-1), TraceParent = TraceParent(earlier),
            },
            CancellationToken.None);

        var swept = await Get<JobSweeper>().SweepAsync(CancellationToken.None);
        // What the SubmitJob consumer does with the request.
        await Get<JobDispatcher>().DispatchAsync(Assert.Single(_bus.DispatchRequests, r => r.JobId == jobId).JobId, CancellationToken.None);

        Assert.Equal(1, swept.DispatchRequested);
        var ofJob = spans.All.Where(s => s.JobId() == jobId.ToString()).ToList();
        var recover = Assert.Single(ofJob, s => s.OperationName == JobTracing.Spans.Recover);
        var dispatch = Assert.Single(ofJob, s => s.OperationName == JobTracing.Spans.Dispatch);
        Assert.Equal("dispatch", recover.GetTagItem(JobTracing.Tags.RecoveryAction));
        Assert.All(new[] { recover, dispatch }, s =>
        {
            Assert.Equal(earlier.TraceId, s.TraceId);
            Assert.Equal(earlier.SpanId, s.ParentSpanId);
        });
        Assert.Equal(3, dispatch.GetTagItem(JobTracing.Tags.Shards));
    }

    [Fact]
    public async Task A_record_stored_before_traces_were_recorded_still_loads_and_merges()
    {
        var job = await DispatchedJobAsync();
        var file = Path.Combine(_work, "state", "jobs", $"{job.JobId:N}.json");
        var json = JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();
        json.Remove("traceParent");
        json.Remove("traceState");
        await File.WriteAllTextAsync(file, json.ToJsonString());

        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 1);
        await ClassifyAsync(job, 2);

        var done = await ReadAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done!.Status);
        Assert.Null(done.TraceParent);
    }

    [Fact]
    public async Task A_dataset_or_output_outside_the_allowed_roots_is_refused_naming_the_setting_and_nothing_is_stored()
    {
        var submission = Get<JobSubmission>();
        Directory.CreateDirectory(Path.Combine(_work, "state"));
        Directory.CreateSymbolicLink(Path.Combine(_work, "into-state"), Path.Combine(_work, "state"));

        var dataset = await Assert.ThrowsAsync<JobValidationException>(() => submission.SubmitAsync(
            NewId.NextGuid(), Spec() with { Dataset = Path.Combine(_work, "results") }, overwrite: false, CancellationToken.None));
        var output = await Assert.ThrowsAsync<JobValidationException>(() => submission.SubmitAsync(
            NewId.NextGuid(), Spec(_dataset + "-out"), overwrite: false, CancellationToken.None));
        var linked = await Assert.ThrowsAsync<JobValidationException>(() => submission.SubmitAsync(
            NewId.NextGuid(), Spec(Path.Combine(_work, "into-state", "out")), overwrite: false, CancellationToken.None));

        Assert.Contains("is outside Coordinator:AllowedDatasets", Assert.Single(dataset.Errors), StringComparison.Ordinal);
        Assert.Contains("is outside Coordinator:AllowedOutputs", Assert.Single(output.Errors), StringComparison.Ordinal);
        Assert.Contains("overlaps the coordinator's state location (Coordinator:StateLocation)", Assert.Single(linked.Errors), StringComparison.Ordinal);
        Assert.Empty((await Get<JobStateStore>().LoadIndexAsync(CancellationToken.None)).All());
    }

    [Fact]
    public async Task A_job_may_not_write_into_another_jobs_output_or_the_state_unless_it_overwrites_a_finished_one()
    {
        var output = Path.Combine(_work, "shared-output");
        var first = await DispatchedJobAsync(output);
        var submission = Get<JobSubmission>();

        var same = await Assert.ThrowsAsync<OutputConflictException>(() => submission.SubmitAsync(NewId.NextGuid(), Spec(output), overwrite: true, CancellationToken.None));
        Assert.Equal(first.JobId, same.Conflict.Job!.JobId);
        Assert.Contains("not finished", same.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<OutputConflictException>(() => submission.SubmitAsync(NewId.NextGuid(), Spec(Path.Combine(output, "inner")), overwrite: false, CancellationToken.None));
        await Assert.ThrowsAsync<OutputConflictException>(() => submission.SubmitAsync(NewId.NextGuid(), Spec(_work), overwrite: false, CancellationToken.None));
        var state = await Assert.ThrowsAsync<OutputConflictException>(() => submission.SubmitAsync(NewId.NextGuid(), Spec(Path.Combine(_work, "state", "x")), overwrite: true, CancellationToken.None));
        Assert.Null(state.Conflict.Job);

        await ClassifyAsync(first, 0);
        await ClassifyAsync(first, 1);
        await ClassifyAsync(first, 2);
        var refused = await Assert.ThrowsAsync<OutputConflictException>(() => submission.SubmitAsync(NewId.NextGuid(), Spec(output), overwrite: false, CancellationToken.None));
        Assert.Contains("overwrite", refused.Message, StringComparison.Ordinal);

        var second = await submission.SubmitAsync(NewId.NextGuid(), Spec(output), overwrite: true, CancellationToken.None);
        Assert.Equal(second.JobId, (await ReadAsync(first.JobId))!.OutputTakenOverBy);
        // The taken-over job no longer owns the location: a third job conflicts with the second only.
        var third = await Assert.ThrowsAsync<OutputConflictException>(() => submission.SubmitAsync(NewId.NextGuid(), Spec(output), overwrite: true, CancellationToken.None));
        Assert.Equal(second.JobId, third.Conflict.Job!.JobId);
    }

    [Fact]
    public async Task Errors_quote_at_most_a_bounded_part_of_the_input()
    {
        var huge = new string('x', 5_000_000);

        var error = await Assert.ThrowsAsync<JobValidationException>(() => Get<JobSubmission>().SubmitAsync(
            NewId.NextGuid(), new JobSpec { Dataset = "s3://" + huge, Model = huge }, overwrite: false, CancellationToken.None));

        Assert.All(error.Errors, e => Assert.True(e.Length < 1000, $"{e.Length} characters"));
    }

    [Fact]
    public async Task A_finished_job_can_be_deleted_with_its_outputs_and_expired_ones_go_with_the_sweep()
    {
        var job = await DispatchedJobAsync();
        await Assert.ThrowsAsync<JobNotFinishedException>(() => Get<JobDeletion>().DeleteAsync(job.JobId, outputs: true, CancellationToken.None));
        await ClassifyAsync(job, 0);
        await ClassifyAsync(job, 1);
        await ClassifyAsync(job, 2);

        Assert.True(await Get<JobDeletion>().DeleteAsync(job.JobId, outputs: true, CancellationToken.None));

        Assert.Null(await ReadAsync(job.JobId));
        Assert.Null(Get<JobIndex>().Get(job.JobId));
        Assert.Empty(Directory.EnumerateFileSystemEntries(job.Output, "*", SearchOption.AllDirectories));
        Assert.False(await Get<JobDeletion>().DeleteAsync(job.JobId, outputs: false, CancellationToken.None));
    }

    [Fact]
    public async Task The_sweep_removes_the_state_of_jobs_finished_longer_ago_than_the_retention()
    {
        var state = Get<JobStateStore>();
        var old = new JobRecord
        {
            JobId = NewId.NextGuid(), Spec = Spec(), Status = JobStatus.Completed, Output = Path.Combine(_work, "old"),
            SubmittedAt = DateTimeOffset.UtcNow.AddHours(-3), CompletedAt = DateTimeOffset.UtcNow.AddHours(-2),
        };
        var recent = old with { JobId = NewId.NextGuid(), Output = Path.Combine(_work, "recent"), CompletedAt = DateTimeOffset.UtcNow.AddMinutes(-5) };
        await state.CreateAsync(old, CancellationToken.None);
        await state.CreateAsync(recent, CancellationToken.None);

        var swept = await Get<JobSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, swept.Deleted);
        Assert.Null(await ReadAsync(old.JobId));
        Assert.NotNull(await ReadAsync(recent.JobId));
    }

    [Fact]
    public async Task The_job_view_shows_shards_queued_running_done_and_the_rate()
    {
        var job = await DispatchedJobAsync();
        await Get<ShardOutcomeRecorder>().OnStartedAsync(new ShardStarted(job.JobId, 1, "w1"), CancellationToken.None);
        await ClassifyAsync(job, 0);

        var view = (await Get<JobQueries>().GetAsync(job.JobId, CancellationToken.None))!;

        Assert.Equal(JobStatus.Running, view.Status);
        Assert.Equal(1, view.Progress.ShardsQueued);
        Assert.Equal(1, view.Progress.ShardsRunning);
        Assert.Equal(1, view.Progress.ShardsDone);
        Assert.Equal(2, view.Progress.ImagesDone);
        Assert.True(view.Progress.ImagesPerSecond > 0);
        Assert.NotNull(view.Progress.EtaSeconds);
    }

    [Fact]
    public async Task The_sweep_forgets_the_progress_of_jobs_another_coordinator_finished_or_deleted_and_keeps_running_ones()
    {
        var running = await DispatchedJobAsync();
        var finishedElsewhere = await DispatchedJobAsync();
        var deleted = await DispatchedJobAsync();
        foreach (var job in new[] { running, finishedElsewhere, deleted })
        {
            await Get<ShardOutcomeRecorder>().OnStartedAsync(new ShardStarted(job.JobId, 2, "w1"), CancellationToken.None);
        }

        var tracker = Get<JobProgressTracker>();
        Assert.Equal(3, tracker.TrackedJobs);
        // Another coordinator merged this one (this process saw none of it), and this one's record is gone.
        await Get<JobStateStore>().UpdateAsync(
            finishedElsewhere.JobId, r => r with { Status = JobStatus.Completed, CompletedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        File.Delete(Path.Combine(_work, "state", "jobs", deleted.JobId.ToString("N") + ".json"));

        await Get<JobSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, tracker.TrackedJobs);
        // The running job kept what only memory knows: its started shard.
        var view = (await Get<JobQueries>().GetAsync(running.JobId, CancellationToken.None))!;
        Assert.Equal(1, view.Progress.ShardsRunning);
    }

    [Fact]
    public async Task A_stray_file_among_the_job_records_does_not_stop_the_coordinator()
    {
        var job = await DispatchedJobAsync();
        await File.WriteAllTextAsync(Path.Combine(_work, "state", "jobs", "summary.json"), """{"jobId":"not a record"}""");
        var fresh = new JobStateStore(
            new EfficientNet.Batch.Storage.FileSystemBlobStore(Path.Combine(_work, "state")), "", new JobIndex());

        var index = await fresh.LoadIndexAsync(CancellationToken.None);

        Assert.Equal(job.JobId, Assert.Single(index.All()).JobId);
        fresh.Dispose();
    }

    private sealed class FakeBus : IShardDispatcher, IDispatchRequester, IJobEventPublisher
    {
        public ConcurrentQueue<ClassifyShard> ShardQueue { get; } = new();

        public List<ClassifyShard> Shards => [.. ShardQueue];

        public ConcurrentQueue<JobPriority> Priorities { get; } = new();

        public ConcurrentQueue<SubmitJob> DispatchRequests { get; } = new();

        public ConcurrentQueue<JobCompleted> Completed { get; } = new();

        public ConcurrentQueue<JobCancelled> Cancelled { get; } = new();

        public volatile bool BrokerDown;

        /// <summary>The shard send (1-based, counted from now on) that fails as if the coordinator died in it.</summary>
        public int? FailingSend { get; set; }

        public int Sends { get; private set; }

        public Task DispatchAsync(IReadOnlyList<ClassifyShard> shards, JobPriority priority, CancellationToken cancellationToken)
        {
            if (++Sends == FailingSend)
            {
                throw new InvalidOperationException("The coordinator died while sending shards.");
            }

            foreach (var shard in shards)
            {
                ShardQueue.Enqueue(shard);
                Priorities.Enqueue(priority);
            }

            return Task.CompletedTask;
        }

        public async Task RequestAsync(SubmitJob request, CancellationToken cancellationToken)
        {
            if (BrokerDown)
            {
                // Like MassTransit while the broker is unreachable: the send waits for a connection.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            DispatchRequests.Enqueue(request);
        }

        public Task PublishAsync(JobCompleted completed, CancellationToken cancellationToken)
        {
            Completed.Enqueue(completed);
            return Task.CompletedTask;
        }

        public Task PublishAsync(JobCancelled cancelled, CancellationToken cancellationToken)
        {
            Cancelled.Enqueue(cancelled);
            return Task.CompletedTask;
        }
    }

    private sealed class TestLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
