using EfficientNet.Batch.Components.Schedules;

namespace EfficientNet.Batch.Components.Tests.Schedules;

/// <summary>Reading a schedule's cron and zone, and Cronos' documented daylight-saving behaviour.</summary>
public sealed class ScheduleCronTests
{
    private static readonly DateTimeOffset Midnight = new(2026, 5, 4, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_five_field_cron_counts_minutes_and_a_six_field_one_seconds()
    {
        Assert.Equal(Midnight.AddMinutes(5), ScheduleCron.Parse("*/5 * * * *", null).Next(Midnight));
        Assert.Equal(Midnight.AddSeconds(10), ScheduleCron.Parse("*/10 * * * * *", null).Next(Midnight));
    }

    [Fact]
    public void The_zone_defaults_to_utc_and_a_named_zone_shifts_the_due_time()
    {
        Assert.Equal(Midnight.AddHours(3), ScheduleCron.Parse("0 3 * * *", null).Next(Midnight));
        // 03:00 in Berlin in May (CEST, UTC+2) is 01:00 UTC.
        Assert.Equal(Midnight.AddHours(1), ScheduleCron.Parse("0 3 * * *", "Europe/Berlin").Next(Midnight));
    }

    [Theory]
    [InlineData("* * *", "3 fields")]
    [InlineData("0 0 0 * * * *", "7 fields")]
    [InlineData("61 * * * *", "not a valid cron expression")]
    [InlineData("0 3 * * moonday", "not a valid cron expression")]
    [InlineData("", "'cron' is required")]
    public void A_bad_cron_is_refused_naming_it(string cron, string expected)
    {
        var refused = Assert.Throws<ScheduleValidationException>(() => ScheduleCron.Parse(cron, "UTC"));

        var error = Assert.Single(refused.Errors);
        Assert.Contains("'cron'", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_time_zone_is_refused_naming_it()
    {
        var refused = Assert.Throws<ScheduleValidationException>(() => ScheduleCron.Parse("0 3 * * *", "Mars/Olympus_Mons"));

        var error = Assert.Single(refused.Errors);
        Assert.Contains("'timeZone'", error, StringComparison.Ordinal);
        Assert.Contains("Mars/Olympus_Mons", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_cron_and_a_bad_zone_are_both_named()
    {
        var refused = Assert.Throws<ScheduleValidationException>(() => ScheduleCron.Parse("nope", "Nowhere/Land"));

        Assert.Equal(2, refused.Errors.Count);
    }

    [Fact]
    public void On_the_spring_forward_day_a_time_in_the_skipped_hour_fires_at_the_end_of_the_gap()
    {
        // Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist. Cronos fires at 03:00 CEST.
        var cron = ScheduleCron.Parse("30 2 * * *", "Europe/Berlin");
        var before = new DateTimeOffset(2026, 3, 28, 23, 0, 0, TimeSpan.Zero);

        var springForward = cron.Next(before);
        var dayAfter = cron.Next(springForward!.Value);

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), springForward);
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 0, 30, 0, TimeSpan.Zero), dayAfter);
    }

    [Fact]
    public void On_the_fall_back_day_a_time_in_the_repeated_hour_fires_once_at_its_first_instance()
    {
        // New York, 1 November 2026: 01:00-02:00 happens twice (EDT, then EST). Cronos fires at 01:30 EDT only.
        var cron = ScheduleCron.Parse("30 1 * * *", "America/New_York");
        var before = new DateTimeOffset(2026, 11, 1, 4, 0, 0, TimeSpan.Zero);

        var (count, occurrences) = cron.Between(before, new DateTimeOffset(2026, 11, 2, 4, 0, 0, TimeSpan.Zero), keep: 10);

        Assert.Equal(1, count);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 5, 30, 0, TimeSpan.Zero), Assert.Single(occurrences));
        Assert.Equal(new DateTimeOffset(2026, 11, 2, 6, 30, 0, TimeSpan.Zero), cron.Next(occurrences[0]));
    }

    [Fact]
    public void Between_counts_every_occurrence_and_keeps_the_latest()
    {
        var cron = ScheduleCron.Parse("0 * * * *", null);

        var (count, latest) = cron.Between(Midnight, Midnight.AddHours(10), keep: 3);

        Assert.Equal(10, count);
        Assert.Equal([Midnight.AddHours(8), Midnight.AddHours(9), Midnight.AddHours(10)], latest);
    }

    [Fact]
    public void A_job_id_is_derived_from_schedule_and_due_time()
    {
        var schedule = Guid.NewGuid();
        var id = ScheduleJobIds.For(schedule, Midnight);

        Assert.Equal(id, ScheduleJobIds.For(schedule, Midnight.ToOffset(TimeSpan.FromHours(2))));
        Assert.NotEqual(id, ScheduleJobIds.For(schedule, Midnight.AddMilliseconds(1)));
        Assert.NotEqual(id, ScheduleJobIds.For(Guid.NewGuid(), Midnight));
        Assert.Equal(5, id.Version);
    }
}
