using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EfficientNet.Batch.Components;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Messaging;
using EfficientNet.Batch.Components.Workers;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.Models.Store;
using EfficientNet.Batch.ServiceDefaults;
using EfficientNet.Batch.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary><c>effnet run</c>: the embedded default. Coordinator and worker in one process, on MassTransit's in-memory
/// transport and the local file system; the very same services run distributed over RabbitMQ and Azure Blob.</summary>
internal static class RunCommand
{
    /// <summary>After Ctrl+C, how long running shards get to stop or commit before the job is closed.</summary>
    private static readonly TimeSpan CancelGracePeriod = TimeSpan.FromSeconds(2);

    /// <summary>How long <c>run</c> waits, after it read its job's end, for the coordinator in the process to announce it
    /// (it removes the job's working files in between).</summary>
    private static readonly TimeSpan EndAnnouncedWithin = TimeSpan.FromSeconds(30);

    public static Command Create(Option<string?> models)
    {
        var dataset = new Argument<string>("DATASET") { Description = "Folder of images, or a manifest (.txt/.csv: path[,label] per line)." };
        var model = new Option<string>("--model", "-m") { Description = "Model id (see `effnet models list`).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder for predictions.jsonl and summary.json.", Required = true };
        var full = new Option<bool>("--full")
        {
            Description = "Classify every image even when --out holds an earlier run of the same model (by default unchanged images keep their records).",
        };
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "Use an --out that holds other files or another model's run: that run's outputs are removed first (other files are left).",
        };
        var options = new JobOptions();

        var command = new Command(
            "run",
            "Label a dataset on this machine (no servers needed). Over an earlier run in --out only new and changed images are classified; " +
            "an interrupted run resumes. Ctrl+C cancels the job and keeps what is classified.")
        {
            dataset, model, output, full, overwrite,
        };
        options.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(
            parse.GetRequiredValue(dataset),
            parse.GetRequiredValue(model),
            parse.GetRequiredValue(output),
            options.Read(parse),
            parse.GetValue(full),
            parse.GetValue(overwrite),
            parse.GetValue(models),
            ct));
        return command;
    }

    /// <param name="interrupt">Ctrl+C: before the job is submitted it ends the command; after, it cancels the job.</param>
    private static async Task<int> RunAsync(
        string dataset, string model, string output, JobOptionValues values, bool full, bool overwrite, string? modelsDirectory, CancellationToken interrupt)
    {
        var outputDirectory = Path.GetFullPath(output);
        if (File.Exists(outputDirectory))
        {
            Console.Error.WriteLine($"error: --out {output} is a file; give a folder (it is created when missing).");
            return ExitCodes.InvalidArguments;
        }

        if (LocalDatasetProblem(dataset) is { } problem)
        {
            Console.Error.WriteLine($"error: {problem}");
            return ExitCodes.InvalidArguments;
        }

        if (EarlierOutput.Check(outputDirectory, output, model, overwrite) is { } refusal)
        {
            Console.Error.WriteLine($"error: {refusal}");
            return ExitCodes.InvalidArguments;
        }

        // ONNX Runtime, OpenSSL and libjpeg-turbo load on the other core while the host is set up.
        _ = NativeLibraryPreload.Start();
        Directory.CreateDirectory(outputDirectory);
        // The job's state lives as long as this command (nothing is resumed) and outside the output the job owns.
        var stateDirectory = Directory.CreateTempSubdirectory("effnet-run-").FullName;
        try
        {
            var builder = CliHost.CreateBuilder(modelsDirectory, new Dictionary<string, string?>
            {
                ["Messaging:Transport"] = nameof(MessagingTransport.InMemory),
                ["Coordinator:StateLocation"] = stateDirectory,
                ["Coordinator:OutputLocation"] = outputDirectory,
                ["Coordinator:CancelGracePeriod"] = CancelGracePeriod.ToString("c", CultureInfo.InvariantCulture),
                // One process, one job: exactly this dataset may be read and this output written.
                ["Coordinator:AllowedDatasets:0"] = DatasetRoot(dataset),
                ["Coordinator:AllowedOutputs:0"] = outputDirectory,
                ["Inference:BatchSize"] = values.BatchSize?.ToString(CultureInfo.InvariantCulture),
                ["Worker:DecodeParallelism"] = values.DecodeThreads?.ToString(CultureInfo.InvariantCulture),
            });
            builder.AddCoordinatorComponents();
            builder.AddWorkerComponents();
            builder.Services.AddSingleton<JobEndSignal>();
            builder.Services.AddSingleton<BusJobEventPublisher>();
            builder.Services.Replace(ServiceDescriptor.Singleton<IJobEventPublisher>(services => new SignallingJobEventPublisher(
                services.GetRequiredService<BusJobEventPublisher>(), services.GetRequiredService<JobEndSignal>())));
            builder.AddBatchBus(bus =>
            {
                bus.AddCoordinatorConsumers();
                bus.AddWorkerConsumers();
            });

            using var host = builder.Build();
            // With a warm model store, the model's session opens while the host starts: side by side, the two slowest
            // steps of start-up (docs/benchmarks.md, *Start-up*).
            var warm = OpenModelWhileStartingAsync(host.Services, model, values.RandomWeights, values.Seed);
            try
            {
                // After the session has started opening, so that checking the settings does not delay it.
                await CliHost.StartAsync(host, interrupt);
            }
            catch
            {
                await warm;
                throw;
            }

            JobRun run;
            try
            {
                var spec = new JobSpec
                {
                    Dataset = dataset,
                    Model = model,
                    Output = outputDirectory,
                    ShardSize = values.ShardSize ?? JobOptions.DefaultShardSize,
                    TopK = values.TopK,
                    RandomWeights = values.RandomWeights,
                    Seed = values.Seed,
                    Priority = values.Priority,
                    Incremental = !full,
                    Outputs = values.Outputs,
                    Review = values.Review,
                };
                run = await RunJobAsync(host.Services, spec, warm, interrupt);
            }
            catch
            {
                await warm;
                await host.StopAsync(CancellationToken.None);
                throw;
            }

            await warm;
            // Nothing in the host is needed any more (the job has ended and its outputs are written, or it was refused):
            // it stops, and its sessions and buffers are released, while the report prints (docs/benchmarks.md,
            // *Start-up*).
            var stopping = Task.Run(async () =>
            {
                await host.StopAsync(CancellationToken.None);
                host.Dispose();
            }, CancellationToken.None);
            try
            {
                return run.Final is { } final ? Report(final, run.Elapsed, run.FirstImagesAt) : run.StoppedWith;
            }
            finally
            {
                await stopping;
            }
        }
        finally
        {
            RemoveState(stateDirectory);
        }
    }

    /// <summary>What is wrong with a dataset on this machine, found before anything starts: a path that does not exist,
    /// or a folder without a single image (the search stops at the first). Null for a usable one, and for blob storage
    /// (the job's listing says what is wrong there).</summary>
    private static string? LocalDatasetProblem(string dataset)
    {
        StorageLocation location;
        try
        {
            location = StorageLocation.Parse(dataset);
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (location.Scheme != StorageScheme.FileSystem || File.Exists(location.Container))
        {
            return null;
        }

        if (!Directory.Exists(location.Container))
        {
            return $"the dataset {dataset} does not exist.";
        }

        var anyImage = Directory.EnumerateFiles(location.Container, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
            .Any(f => DatasetReader.ImageExtensions.Contains(Path.GetExtension(f)));
        return anyImage
            ? null
            : $"the dataset {dataset} holds no images. Images are files ending in {string.Join(", ", DatasetReader.ImageExtensions.Order(StringComparer.Ordinal))}.";
    }

    /// <summary>The location the job's images are read from: a local manifest's folder (its entries are relative to
    /// it), else the dataset itself; null for a location that does not parse (the job's validation then says why).</summary>
    private static string? DatasetRoot(string dataset)
    {
        try
        {
            var location = StorageLocation.Parse(dataset);
            return location.Scheme == StorageScheme.FileSystem && File.Exists(location.Container)
                ? Path.GetDirectoryName(location.Container)
                : location.ToString();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Opens the session of <paramref name="model"/> when its weights are already in the store (random weights
    /// are made locally): nothing is downloaded here. Never throws: whatever goes wrong is found again, and reported, by
    /// <see cref="LoadModelAsync"/>, which waits for this first.</summary>
    private static async Task OpenModelWhileStartingAsync(IServiceProvider services, string model, bool randomWeights, int seed)
    {
        try
        {
            await Task.Run(async () =>
            {
                var resolved = await services.GetRequiredService<ModelStore>().ResolveAsync(model, randomWeights ? seed : null, CancellationToken.None);
                services.GetRequiredService<EfficientNet.Batch.Inference.ModelSessionCache>().Acquire(resolved.OnnxPath, resolved.OnnxSha256).Dispose();
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Left to LoadModelAsync (an unknown model, weights not pulled yet, bad options: each has its message there).
        }
    }

    /// <summary>How this command's job went: run to its end (<paramref name="Final"/>, reported once the host is
    /// stopping), or refused before it ran (<paramref name="StoppedWith"/>, the reason already printed).</summary>
    /// <param name="FirstImagesAt">When this process classified its first images (null when it classified none).</param>
    private sealed record JobRun(JobView? Final, TimeSpan Elapsed, DateTime? FirstImagesAt, int StoppedWith = ExitCodes.Ok)
    {
        public static JobRun Stopped(int exitCode) => new(null, TimeSpan.Zero, null, exitCode);
    }

    private static async Task<JobRun> RunJobAsync(IServiceProvider services, JobSpec spec, Task warm, CancellationToken interrupt)
    {
        var stopwatch = Stopwatch.StartNew();
        // Refuse a bad request before any weights are pulled or loaded.
        if (Refused(await services.GetRequiredService<JobSpecValidator>().ValidateAsync(spec, interrupt)))
        {
            return JobRun.Stopped(ExitCodes.InvalidArguments);
        }

        if (spec.RandomWeights)
        {
            Console.Error.WriteLine($"warning: {spec.Model} runs with UNTRAINED random weights (seed {spec.Seed}); the labels are meaningless. Import real weights with `effnet models import`.");
        }

        // Load the model before the job starts, so its messages (and any error) come before the progress display.
        await warm;
        if (await LoadModelAsync(services, spec, interrupt) is { } exitCode)
        {
            return JobRun.Stopped(exitCode);
        }

        JobRecord record;
        try
        {
            // Not cancelled by Ctrl+C: once submitted, the job is cancelled instead, and its state must be whole.
            // The output folder itself is the previous run: its merged records, and the committed shards of a run
            // that was interrupted, are reused where the image and the model are unchanged.
            record = await services.GetRequiredService<JobSubmission>().SubmitAsync(
                NewId.NextGuid(), spec, overwrite: false, CancellationToken.None, origin: new JobOrigin(BaselineLocation: spec.Output));
        }
        catch (JobValidationException e)
        {
            Refused(e.Errors);
            return JobRun.Stopped(ExitCodes.InvalidArguments);
        }
        catch (OutputConflictException e) when (e.Conflict.Job is null)
        {
            var state = services.GetRequiredService<IOptions<CoordinatorOptions>>().Value.StateLocation;
            CliErrors.Report($"--out {spec.Output} contains the temporary state of this run ({state}); choose another output folder.", e);
            return JobRun.Stopped(ExitCodes.InvalidArguments);
        }
        catch (OutputConflictException e)
        {
            CliErrors.Report(e.Conflict.Message, e);
            return JobRun.Stopped(ExitCodes.InvalidArguments);
        }

        var final = await WaitAsync(services, record.JobId, interrupt);
        if (final.Status is JobStatus.Completed or JobStatus.CompletedWithErrors or JobStatus.Cancelled)
        {
            // The coordinator stores the final status, then removes the job's working files, then announces the end:
            // the output folder is tidied here after that, so that the two do not remove the same folders at once.
            await services.GetRequiredService<JobEndSignal>().Ended.WaitAsync(EndAnnouncedWithin, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            RemoveEarlierRuns(final.Output, final.JobId, Console.Error);
        }

        return new JobRun(final, stopwatch.Elapsed, services.GetRequiredService<ClassificationProgress>().FirstImagesAt);
    }

    private static bool Refused(IReadOnlyList<string> errors)
    {
        foreach (var error in errors)
        {
            Console.Error.WriteLine($"error: {error}");
        }

        return errors.Count > 0;
    }

    /// <returns>Null when the model is loaded, else the exit code after the reason was printed.</returns>
    private static async Task<int?> LoadModelAsync(IServiceProvider services, JobSpec spec, CancellationToken cancellationToken)
    {
        var models = services.GetRequiredService<ModelStore>();
        if (await WeightsOnFirstUse.EnsureAsync(models, spec.Model, spec.RandomWeights, spec.Seed, cancellationToken) is { } exitCode)
        {
            return exitCode;
        }

        try
        {
            var resolved = await models.ResolveAsync(spec.Model, spec.RandomWeights ? spec.Seed : null, cancellationToken);
            WeightsOnFirstUse.WarnIfUntrained(resolved, spec.Model, spec.RandomWeights);

            // Loads the session now (it stays cached for the job's shards), so a broken model fails before the job.
            services.GetRequiredService<EfficientNet.Batch.Inference.ModelSessionCache>().Acquire(resolved.OnnxPath, resolved.OnnxSha256).Dispose();
            return null;
        }
        catch (Exception e) when (e is ModelNotAvailableException or ModelHashMismatchException)
        {
            CliErrors.Report(e.Message, e);
            return ExitCodes.ModelUnavailable;
        }
    }

    /// <summary>Shows the job until it has ended. The first Ctrl+C cancels it, and the display goes on until the
    /// coordinator has closed it: these waits must outlive <paramref name="interrupt"/>, so none of them takes it.</summary>
    private static async Task<JobView> WaitAsync(IServiceProvider services, Guid jobId, CancellationToken interrupt)
    {
        var queries = services.GetRequiredService<JobQueries>();
        var cancellation = services.GetRequiredService<JobCancellation>();
        var local = LocalProgress.Start(services);
        var cancelled = false;
        return await ProgressDisplay.WaitAsync(
            async () =>
            {
                if (interrupt.IsCancellationRequested && !cancelled)
                {
                    cancelled = true;
                    ProgressDisplay.Note($"Cancelling job {jobId}: running shards get {CancelGracePeriod.TotalSeconds:F0} s to stop, what is classified is kept (Ctrl+C again to abort).");
                    await cancellation.CancelAsync(jobId, CancellationToken.None);
                }

                var job = await queries.GetAsync(jobId, CancellationToken.None) ?? throw new InvalidOperationException($"Job {jobId} vanished.");
                return local.Read(job);
            },
            LocalProgress.Tick,
            CancellationToken.None,
            services.GetRequiredService<JobEndSignal>().Ended);
    }

    /// <param name="firstImagesAt">When this process classified its first images (null when it classified none).</param>
    private static int Report(JobView final, TimeSpan elapsed, DateTime? firstImagesAt)
    {
        if (final.Status == JobStatus.Failed)
        {
            Console.Error.WriteLine($"error: job {final.JobId} failed: {final.Error}");
            return ExitCodes.JobFailed;
        }

        var summaryPath = Path.Combine(final.Output, JobOutputLayout.SummaryName);
        if (final.Status == JobStatus.Cancelled)
        {
            AnsiConsole.MarkupLine($"[yellow]Cancelled[/] after {elapsed.TotalSeconds:F1} s: {final.ImagesOk} images classified, {final.ImagesFailed} errors, " +
                $"{final.ImagesNotClassified} not classified ({final.ImagesOk + final.ImagesFailed} lines).");
        }
        else
        {
            // Records reused from the run already in --out count as lines, not as images classified by this run.
            var reused = final.ImagesReused > 0 ? $", {final.ImagesReused} of them reused from the previous run" : "";
            AnsiConsole.MarkupLine($"[green]Done[/] in {elapsed.TotalSeconds:F1} s: {final.ImagesOk} images ok, {final.ImagesFailed} errors ({final.ImagesOk + final.ImagesFailed} lines{reused}).");
        }

        if (firstImagesAt is { } first)
        {
            // Process start to the first batch classified: start-up, model loading and the first images' reads included.
            using var process = Process.GetCurrentProcess();
            AnsiConsole.MarkupLine($"Start-up:    first batch classified {(first - process.StartTime.ToUniversalTime()).TotalSeconds:F2} s after the process started");
        }

        AnsiConsole.MarkupLine($"Predictions: [blue]{Markup.Escape(Path.Combine(final.Output, JobOutputLayout.PredictionsName))}[/]");
        AnsiConsole.MarkupLine($"Summary:     [blue]{Markup.Escape(summaryPath)}[/]");
        SummaryPrinter.Print(summaryPath);
        // A job whose shards all succeeded may still hold error records (a corrupt image): exit 4 says so to a script.
        return final.Status == JobStatus.Completed && final.ImagesFailed > 0 ? ExitCodes.CompletedWithErrors : ExitCodes.ForJob(final.Status);
    }

    /// <summary>Once this run's outputs are written, the shard results of earlier runs into the same folder are
    /// merged into them (or were not reusable): they are removed, so the folder holds one run. What is already gone (the
    /// coordinator's cleanup removes the same folders for a completed job) counts as removed.</summary>
    /// <param name="warnings">Where a folder that could not be removed is reported.</param>
    internal static void RemoveEarlierRuns(string output, Guid jobId, TextWriter warnings)
    {
        string[] folders;
        try
        {
            folders = Directory.GetDirectories(Path.Combine(output, "shards"));
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        foreach (var folder in folders)
        {
            if (string.Equals(Path.GetFileName(folder), jobId.ToString("N"), StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException e) when (Directory.Exists(folder))
            {
                warnings.WriteLine($"warning: could not remove the earlier run's shard results in {folder}: {e.Message}");
            }
            catch (IOException)
            {
                // Removed by someone else meanwhile.
            }
        }
    }

    private static void RemoveState(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException e)
        {
            // A leftover temporary folder harms nothing; say where it is.
            Console.Error.WriteLine($"warning: could not remove the job state in {directory}: {e.Message}");
        }
    }
}
