using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.Components.Schedules;

/// <summary>Settings of section <c>Schedules</c>.</summary>
public sealed class ScheduleOptions
{
    public const string SectionName = "Schedules";

    /// <summary>How often the coordinator looks for due schedules; a cron more frequent than this fires at most once
    /// per tick (for its latest due time).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "Schedules:TickInterval must be between 50 ms and 1 hour.")]
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Runs shown by <c>GET /schedules/{id}</c> (newest first).</summary>
    [Range(1, 1000, ErrorMessage = "Schedules:RecentRuns must be between 1 and 1000.")]
    public int RecentRuns { get; set; } = 20;

    /// <summary>Run records kept per schedule (older ones are removed; their jobs stay).</summary>
    public int RunsKept => Math.Max(100, RecentRuns * 2);

    /// <summary>A due time this late when first seen was missed while the coordinator was down.</summary>
    public TimeSpan MissedAfter => (TickInterval * 2) + TimeSpan.FromSeconds(5);
}

/// <summary>Checks <see cref="ScheduleOptions"/>'s data annotations with code generated at compile time (no reflection at start-up).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class ScheduleOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<ScheduleOptions>;
