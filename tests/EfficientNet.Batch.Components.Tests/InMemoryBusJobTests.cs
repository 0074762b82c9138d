using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Telemetry;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.Models.Weights;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfficientNet.Batch.Components.Tests;

/// <summary>Coordinator and worker consumers together on MassTransit's in-memory test harness, with the file-system
/// store and a real (untrained) EfficientNet-B0: the whole job flow without a broker.</summary>
public sealed class InMemoryBusJobTests : IDisposable
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    private readonly string _models = Directory.CreateTempSubdirectory("effnet-models-").FullName;
    private readonly string _work = Directory.CreateTempSubdirectory("effnet-work-").FullName;
    private readonly List<string> _datasets = [];

    public void Dispose()
    {
        foreach (var dir in _datasets.Append(_models).Append(_work))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private IHost BuildHost(string precision = "Float32", string cancelGrace = "00:00:10") => BuildHost(_models, _work, precision, cancelGrace);

    /// <summary>Coordinator and worker on the test harness, with state and outputs under <paramref name="work"/>.</summary>
    internal static IHost BuildHost(
        string models, string work, string precision = "Float32", string cancelGrace = "00:00:10", IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:StateLocation"] = Path.Combine(work, "state"),
            ["Coordinator:OutputLocation"] = Path.Combine(work, "results"),
            ["Models:Directory"] = models,
            ["Inference:BatchSize"] = "4",
            ["Inference:Precision"] = precision,
            ["Worker:Name"] = "test-worker",
            ["Coordinator:CancelGracePeriod"] = cancelGrace,
            // The datasets are temp folders of their own; outputs go under the work folder (the default, trusted, too).
            ["Coordinator:AllowedDatasets:0"] = Path.GetTempPath(),
            ["Coordinator:AllowedOutputs:0"] = work,
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddCoordinatorComponents();
        builder.AddWorkerComponents();
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            bus.AddCoordinatorConsumers();
            bus.AddWorkerConsumers();
        });
        return builder.Build();
    }

    private string Dataset(IEnumerable<(string Source, string RelativePath)> files)
    {
        var root = TestData.DatasetOf(files);
        _datasets.Add(root);
        return root;
    }

    internal static async Task<JobRecord> RunJobAsync(IHost host, JobSpec spec)
    {
        var record = await host.Services.GetRequiredService<JobSubmission>().SubmitAsync(NewId.NextGuid(), spec, overwrite: false, CancellationToken.None);
        return await WaitForTerminalAsync(host, record.JobId);
    }

    internal static async Task<JobRecord> WaitForTerminalAsync(IHost host, Guid jobId)
    {
        var state = host.Services.GetRequiredService<JobStateStore>();
        var deadline = DateTime.UtcNow + JobTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await state.GetAsync(jobId, CancellationToken.None) is { IsTerminal: true } record)
            {
                return record;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Job {jobId} did not finish in {JobTimeout}.");
    }

    private static List<JsonObject> ReadPredictions(JobRecord job) =>
        File.ReadAllLines(Path.Combine(job.Output, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private static JsonNode ReadSummary(JobRecord job) => JsonNode.Parse(File.ReadAllText(Path.Combine(job.Output, "summary.json")))!;

    [Fact]
    public async Task A_job_writes_one_line_per_image_with_bad_files_as_error_records_and_a_summary()
    {
        var photos = TestData.FirstPhotos(7);
        var dataset = Dataset(photos.Select(p => (p, "photos/" + Path.GetFileName(p)))
            .Append((Path.Combine(TestData.BadInputs, "truncated.jpg"), "bad/truncated.jpg"))
            .Append((Path.Combine(TestData.BadInputs, "not-an-image.jpg"), "bad/not-an-image.jpg")));
        await File.WriteAllTextAsync(Path.Combine(dataset, "notes.txt.md"), "not an image");
        using var host = BuildHost();
        await host.StartAsync();

        var job = await RunJobAsync(host, new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true, Seed = 3, ShardSize = 3, TopK = 2 });

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(3, job.ShardCount);
        var predictions = ReadPredictions(job);
        Assert.Equal(9, predictions.Count);
        Assert.Equal(9, predictions.Select(p => p["path"]!.GetValue<string>()).Distinct().Count());
        foreach (var p in predictions.Where(p => p["path"]!.GetValue<string>().StartsWith("photos/", StringComparison.Ordinal)))
        {
            Assert.Equal(2, p["top"]!.AsArray().Count);
        }

        var truncated = predictions.Single(p => p["path"]!.GetValue<string>() == "bad/truncated.jpg");
        Assert.Equal("corrupt", truncated["errorKind"]!.GetValue<string>());
        Assert.Contains("truncated", truncated["error"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("unknown-format", predictions.Single(p => p["path"]!.GetValue<string>() == "bad/not-an-image.jpg")["errorKind"]!.GetValue<string>());

        var summary = ReadSummary(job);
        Assert.Equal(7, summary["imagesOk"]!.GetValue<long>());
        Assert.Equal(2, summary["imagesFailed"]!.GetValue<long>());
        Assert.Equal(1, summary["skippedFiles"]!.GetValue<long>());
        Assert.Equal("efficientnet_b0", summary["model"]!["id"]!.GetValue<string>());
        Assert.Equal("imagenet", summary["model"]!["normalization"]!.GetValue<string>());
        Assert.Equal(123.675f, summary["model"]!["mean"]![0]!.GetValue<float>());
        Assert.True(summary["untrained"]!.GetValue<bool>());
        Assert.Contains("seed 3", summary["weights"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(3, summary["shardsByWorker"]!["test-worker"]!.GetValue<int>());
        Assert.Equal(["CPUExecutionProvider"], summary["executionProviders"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(["Float32"], summary["precisions"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(7, summary["top1Histogram"]!.AsArray().Sum(c => c!["count"]!.GetValue<long>()));
        Assert.True(host.Services.GetRequiredService<ITestHarness>().Published.Select<JobCompleted>().Any());
    }

    [Fact]
    public async Task A_cancelled_job_stops_its_shards_merges_the_committed_ones_and_reports_the_rest_as_not_classified()
    {
        var dataset = Dataset(TestData.FirstPhotos(40).Select(p => (p, Path.GetFileName(p))));
        using var host = BuildHost(cancelGrace: "00:00:05");
        await host.StartAsync();
        var harness = host.Services.GetRequiredService<ITestHarness>();
        var gate = new ShardGate(openShards: 2);
        using var observer = harness.Bus.ConnectConsumeObserver(gate);
        var record = await host.Services.GetRequiredService<JobSubmission>().SubmitAsync(
            NewId.NextGuid(), new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true, ShardSize = 1 }, overwrite: false, CancellationToken.None);
        var deadline = DateTime.UtcNow + JobTimeout;
        while (harness.Published.Select<ShardClassified>().Count(m => m.Context.Message.JobId == record.JobId) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await host.Services.GetRequiredService<JobCancellation>().CancelAsync(record.JobId, CancellationToken.None);
        gate.Open();
        var job = await WaitForTerminalAsync(host, record.JobId);

        Assert.Equal(JobStatus.Cancelled, job.Status);
        var predictions = ReadPredictions(job);
        var summary = ReadSummary(job);
        Assert.Equal(2, predictions.Count);
        Assert.Equal(predictions.Count, predictions.Select(p => p["path"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(predictions.Count, summary["imagesOk"]!.GetValue<long>() + summary["imagesFailed"]!.GetValue<long>());
        Assert.Equal(40 - predictions.Count, summary["imagesNotClassified"]!.GetValue<long>());
        Assert.Equal(40, summary["imagesPlanned"]!.GetValue<long>());
        Assert.True(harness.Published.Select<ShardSkipped>().Any(m => m.Context.Message.JobId == record.JobId), "no shard was skipped");
    }

    [Fact]
    public async Task A_worker_stops_a_running_shard_of_a_cancelled_job_and_writes_nothing()
    {
        var cancelled = new Workers.CancelledJobs(TimeProvider.System);
        var job = Guid.NewGuid();
        using var running = cancelled.Track(job, CancellationToken.None);
        using var other = cancelled.Track(Guid.NewGuid(), CancellationToken.None);

        cancelled.Cancel(job);

        Assert.True(running.Token.IsCancellationRequested);
        Assert.True(running.StoppedByCancel);
        Assert.False(other.Token.IsCancellationRequested);
        using var later = cancelled.Track(job, CancellationToken.None);
        Assert.True(later.Token.IsCancellationRequested);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_float16_worker_reports_its_precision_for_every_shard_and_in_the_summary()
    {
        var dataset = Dataset(TestData.FirstPhotos(5).Select(p => (p, Path.GetFileName(p))));
        using var host = BuildHost(precision: "Float16");
        await host.StartAsync();

        var job = await RunJobAsync(host, new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true, Seed = 3, ShardSize = 2 });

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(5, ReadPredictions(job).Count(p => p["top"] is not null));
        var shards = host.Services.GetRequiredService<ITestHarness>().Published.Select<ShardClassified>().Select(m => m.Context.Message).ToList();
        Assert.Equal(3, shards.Count);
        Assert.All(shards, m => Assert.Equal("Float16", m.Precision));
        Assert.Equal(["Float16"], ReadSummary(job)["precisions"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    [Fact]
    public async Task A_manifest_with_labels_gives_accuracy_and_keeps_manifest_order()
    {
        var photos = TestData.FirstPhotos(4);
        var dataset = Dataset(photos.Select(p => (p, "img/" + Path.GetFileName(p))));
        var manifest = Path.Combine(dataset, "manifest.csv");
        await File.WriteAllLinesAsync(manifest, ["path,label", .. photos.Select((p, i) => $"img/{Path.GetFileName(p)},{i}").Reverse(), "img/missing.jpg,5"]);
        using var host = BuildHost();
        await host.StartAsync();

        var job = await RunJobAsync(host, new JobSpec { Dataset = manifest, Model = "efficientnet_b0", RandomWeights = true, ShardSize = 2 });

        var predictions = ReadPredictions(job);
        Assert.Equal(
            photos.Select(p => "img/" + Path.GetFileName(p)).Reverse().Append("img/missing.jpg"),
            predictions.Select(p => p["path"]!.GetValue<string>()));
        Assert.Equal([3, 2, 1, 0, 5], predictions.Select(p => p["label"]!.GetValue<int>()));
        Assert.Equal("not-found", predictions[^1]["errorKind"]!.GetValue<string>());
        var accuracy = ReadSummary(job)["accuracy"]!;
        Assert.Equal(4, accuracy["labelled"]!.GetValue<long>());
        Assert.InRange(accuracy["top1"]!.GetValue<double>(), 0, 1);
    }

    [Fact]
    public async Task Missing_weights_fail_the_shards_whose_images_become_error_records()
    {
        var dataset = Dataset(TestData.FirstPhotos(3).Select(p => (p, Path.GetFileName(p))));
        using var host = BuildHost();
        await host.StartAsync();

        var job = await RunJobAsync(host, new JobSpec { Dataset = dataset, Model = "efficientnet_b1", RandomWeights = false, ShardSize = 2 });

        Assert.Equal(JobStatus.CompletedWithErrors, job.Status);
        var predictions = ReadPredictions(job);
        Assert.Equal(3, predictions.Count);
        Assert.All(predictions, p =>
        {
            Assert.Equal("shard-failed", p["errorKind"]!.GetValue<string>());
            Assert.Contains("effnet models import", p["error"]!.GetValue<string>(), StringComparison.Ordinal);
        });
        var summary = ReadSummary(job);
        Assert.Equal(2, summary["failedShards"]!.AsArray().Count);
        Assert.Equal(3, summary["imagesFailed"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_imported_normalisation_override_is_applied_and_reported_in_the_summary()
    {
        var dataset = Dataset(TestData.FirstPhotos(2).Select(p => (p, Path.GetFileName(p))));
        using var host = BuildHost();
        await host.StartAsync();
        await host.Services.GetRequiredService<ModelStore>().ImportAsync(
            "efficientnet_es", RandomWeights.Generate(ArchSpec.Get("es"), 1), "es-draft.pth", new string('0', 64), Normalization.ImageNet, CancellationToken.None);

        var job = await RunJobAsync(host, new JobSpec { Dataset = dataset, Model = "efficientnet_es" });

        Assert.Equal(JobStatus.Completed, job.Status);
        var summary = ReadSummary(job);
        Assert.False(summary["untrained"]!.GetValue<bool>());
        Assert.Equal("imagenet", summary["model"]!["normalization"]!.GetValue<string>());
        Assert.Equal(58.395f, summary["model"]!["std"]![0]!.GetValue<float>());
        Assert.Contains("override", summary["weights"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_dataset_fails_the_job_with_a_reason()
    {
        using var host = BuildHost();
        await host.StartAsync();

        var job = await RunJobAsync(host, new JobSpec { Dataset = Path.Combine(_work, "no-such-folder"), Model = "efficientnet_b0", RandomWeights = true });

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("no-such-folder", job.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_coordinator_that_starts_finds_unfinished_jobs_in_the_state_store_and_runs_them()
    {
        var dataset = Dataset(TestData.FirstPhotos(2).Select(p => (p, Path.GetFileName(p))));
        Guid jobId;
        using (var first = BuildHost())
        {
            // Accepted, but the process stops before it dispatches anything.
            await first.StartAsync();
            var state = first.Services.GetRequiredService<JobStateStore>();
            jobId = NewId.NextGuid();
            await state.CreateAsync(
                new JobRecord
                {
                    JobId = jobId,
                    Spec = new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true },
                    Status = JobStatus.Submitted,
                    Output = Path.Combine(_work, "results", jobId.ToString("N")),
                    SubmittedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
                },
                CancellationToken.None);
            await first.StopAsync();
        }

        using var second = BuildHost();
        await second.StartAsync();
        var job = await WaitForTerminalAsync(second, jobId);

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(2, ReadPredictions(job).Count);
    }

    [Fact]
    public async Task Invalid_requests_are_refused_with_every_reason()
    {
        using var host = BuildHost();
        var submission = host.Services.GetRequiredService<JobSubmission>();

        var error = await Assert.ThrowsAsync<JobValidationException>(() => submission.SubmitAsync(
            Guid.NewGuid(),
            new JobSpec { Dataset = "s3://bucket/x", Model = "efficientnet_b42", ShardSize = 0, TopK = 0, Outputs = ["xlsx"], Review = new ReviewSpec(MinMargin: 2) },
            overwrite: false,
            CancellationToken.None));

        Assert.Equal(6, error.Errors.Count);
        Assert.Contains(error.Errors, e => e.StartsWith("'outputs': unknown format 'xlsx'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("'review.minMargin'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("efficientnet_b42", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("shardSize", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("topK", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("'dataset'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Classified_images_are_counted_on_the_project_meter()
    {
        long ok = 0, errors = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BatchMetrics.Name && instrument.Name == "effnet.images.processed")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "effnet.outcome")
                {
                    if ((string?)tag.Value == "ok")
                    {
                        Interlocked.Add(ref ok, value);
                    }
                    else
                    {
                        Interlocked.Add(ref errors, value);
                    }
                }
            }
        });
        listener.Start();
        var dataset = Dataset(TestData.FirstPhotos(3).Select(p => (p, Path.GetFileName(p)))
            .Append((Path.Combine(TestData.BadInputs, "empty.jpg"), "empty.jpg")));
        using var host = BuildHost();
        await host.StartAsync();

        await RunJobAsync(host, new JobSpec { Dataset = dataset, Model = "efficientnet_b0", RandomWeights = true });

        // Other tests may run in parallel in this process: at least this job's images must have been counted.
        Assert.True(Interlocked.Read(ref ok) >= 3);
        Assert.True(Interlocked.Read(ref errors) >= 1);
    }

    /// <summary>Holds every shard message past the first <c>openShards</c> until opened, so a test can act while a
    /// job is reliably mid-way, however fast the machine.</summary>
    private sealed class ShardGate(int openShards) : IConsumeObserver
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public Task PreConsume<T>(ConsumeContext<T> context)
            where T : class =>
            context.Message is ClassifyShard shard && shard.ShardIndex >= openShards ? _open.Task : Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context)
            where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }
}
