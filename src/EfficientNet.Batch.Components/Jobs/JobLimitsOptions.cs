using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Section "Limits": what one caller may ask of the coordinator. Each limit, when hit, is answered with a
/// problem+json that names it (or, for what is only known once the dataset is listed, a failed job that names it).</summary>
public sealed class JobLimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Largest HTTP request body the coordinator reads (413 beyond it).</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>Job submissions per identity per minute (429 with Retry-After beyond it).</summary>
    [Range(1, 1_000_000)]
    public int SubmitPermitsPerMinute { get; set; } = 60;

    /// <summary>Most images one job may have; a larger dataset fails the job at planning, before any shard is sent.</summary>
    [Range(1, int.MaxValue)]
    public int MaxImagesPerJob { get; set; } = 10_000_000;

    /// <summary>Most unfinished jobs one identity may have at once (429 beyond it).</summary>
    [Range(1, 100_000)]
    public int MaxConcurrentJobsPerIdentity { get; set; } = 20;

    /// <summary>Largest manifest file (CSV/TXT listing the images) a job may name; a larger one fails the job at planning.
    /// A full job's manifest is streamed into its plan, never held whole: 1 GiB holds 10,000,000 lines of ~100 bytes.</summary>
    [Range(1024, 1L << 40)]
    public long MaxManifestBytes { get; set; } = 1L << 30;
}

/// <summary>Checks <see cref="JobLimitsOptions"/>'s data annotations with code generated at compile time (no reflection at start-up).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class JobLimitsOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<JobLimitsOptions>;
