using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Section "Coordinator".</summary>
public sealed class CoordinatorOptions
{
    public const string SectionName = "Coordinator";

    /// <summary>Where job state lives (a storage location); a restarted coordinator resumes the jobs found here.</summary>
    [Required]
    public string StateLocation { get; set; } = "effnet-state";

    /// <summary>Default output location; each job writes under <c>{OutputLocation}/{jobId}</c> unless it names its own.</summary>
    [Required]
    public string OutputLocation { get; set; } = "effnet-results";

    /// <summary>Roots a job's dataset may be read from (<c>az://container/prefix</c>, <c>file:///root</c>); a dataset
    /// outside them is refused with 400. Empty: any <c>az://</c> location and no local path.</summary>
    public List<string> AllowedDatasets { get; set; } = [];

    /// <summary>Roots a job's output may be written to, as <see cref="AllowedDatasets"/>. Outputs under
    /// <see cref="OutputLocation"/> are always allowed.</summary>
    public List<string> AllowedOutputs { get; set; } = [];

    [Range(1, 10_000)]
    public int DefaultShardSize { get; set; } = 256;

    /// <summary>A merge lease not renewed for this long belongs to a dead coordinator and is taken over. The holder
    /// renews it every third of this while it merges.</summary>
    [Range(typeof(TimeSpan), "00:00:03", "1.00:00:00")]
    public TimeSpan FinalizeLeaseTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the sweep looks for jobs to finish: a dispatch that never happened (broker down at submit,
    /// coordinator killed while dispatching), a merge that was interrupted, a cancelled job to close, finished jobs
    /// past <see cref="Retention"/>. It also runs once at start-up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Shard outcomes recorded between two writes of a job's stored totals (<c>totals/{id}.json</c> in the
    /// state, nine bytes per shard). Status after a restart and the merge read those totals and at most this many
    /// outcomes one by one, not one object per shard.</summary>
    [Range(1, 100_000)]
    public int OutcomeTotalsBatch { get; set; } = 512;

    /// <summary>How long <c>POST /jobs</c> waits for the broker to take the dispatch request. When it does not, the job is
    /// still accepted (it is stored) and the sweep dispatches it once the broker is back.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan SubmitTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>After a cancel, how long running shards get to stop or commit before the job is closed as Cancelled
    /// (it closes sooner when every shard has reported).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan CancelGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Finished jobs' state (record, shard outcomes) is removed this long after they finished; their outputs
    /// stay. Unset: kept until <c>DELETE /jobs/{id}</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan? Retention { get; set; }
}

/// <summary>Checks <see cref="CoordinatorOptions"/>'s data annotations with code generated at compile time (no reflection at start-up).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class CoordinatorOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<CoordinatorOptions>;
