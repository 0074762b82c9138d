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

    [Range(1, 10_000)]
    public int DefaultShardSize { get; set; } = 256;

    /// <summary>After this long an unfinished merge by another (dead) coordinator is taken over.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan FinalizeLeaseTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
