using EfficientNet.Batch.Components.Schedules;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Tests.Schedules;

/// <summary>
/// Firing schedules exactly once, with a clock moved by hand: one job per due time with the derived id, catch-up after
/// downtime (run once or skip), no overlap (skip with the reason, or wait), pause and resume without replay, two
/// coordinators racing on one state folder, and a coordinator that died between the decision and the job.
/// </summary>
public sealed class ScheduleRunnerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 10, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset Eleven = new(2026, 6, 1, 11, 0, 0, TimeSpan.Zero);

    private readonly string _work = Directory.CreateTempSubdirectory("effnet-schedules-").FullName;
    private readonly ManualClock _clock = new(Start);
    private readonly ScheduleCoordinator _coordinator;

    public ScheduleRunnerTests()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "a.jpg"), [0xFF, 0xD8, 0xFF]);
        _coordinator = new ScheduleCoordinator(_work, _clock);
    }

    public void Dispose()
    {
        _coordinator.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private ScheduleRequest Hourly(MissedRunPolicy? missed = null, OverlapPolicy? overlap = null, string? output = null) => new(
        "hourly", Path.Combine(_work, "data"), "efficientnet_b0", "0 * * * *", RandomWeights: true, MissedRunPolicy: missed, Overlap: overlap, Output: output);

    private Task<ScheduleRecord> CreateAsync(ScheduleRequest request, string owner = "key:alice") =>
        _coordinator.Schedules.CreateAsync(request, owner, CancellationToken.None);

    private async Task<IReadOnlyList<ScheduleRunView>> RunsAsync(ScheduleRecord schedule) =>
        (await _coordinator.Schedules.ViewAsync((await _coordinator.Schedules.GetAsync(schedule.Id, CancellationToken.None))!, withRuns: true, CancellationToken.None)).RecentRuns;

    [Fact]
    public async Task A_due_time_makes_one_job_with_the_derived_id_submitted_as_the_owner()
    {
        var schedule = await CreateAsync(Hourly());
        await _coordinator.TickAsync();
        Assert.Empty(await _coordinator.JobsOfAsync(schedule.Id));

        _clock.Set(Eleven.AddSeconds(5));
        await _coordinator.TickAsync();
        await _coordinator.TickAsync();
        _clock.Advance(TimeSpan.FromSeconds(15));
        await _coordinator.TickAsync();

        var job = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal(ScheduleJobIds.For(schedule.Id, Eleven), job.JobId);
        Assert.Equal(Eleven, job.DueAt);
        Assert.Equal("key:alice", job.SubmittedBy);
        Assert.True(job.Spec.Incremental);
        Assert.Null(job.BaselineJobId);
        var run = Assert.Single(await RunsAsync(schedule));
        Assert.Equal((Eleven, job.JobId, "Submitted", "cron"), (run.DueAt, run.JobId!.Value, run.Status, run.Trigger));
        Assert.Equal(Eleven, (await _coordinator.Schedules.GetAsync(schedule.Id, CancellationToken.None))!.LastDueAt);
    }

    [Fact]
    public async Task After_downtime_run_once_makes_one_catch_up_run_for_the_latest_missed_due_time()
    {
        var schedule = await CreateAsync(Hourly(MissedRunPolicy.RunOnce));

        _clock.Set(Eleven.AddHours(4).AddMinutes(10)); // 11:00 … 15:00 all passed while "down"
        await _coordinator.TickAsync();
        await _coordinator.TickAsync();

        var job = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal(Eleven.AddHours(4), job.DueAt);
        Assert.Equal("catchUp", Assert.Single(await RunsAsync(schedule)).Trigger);
    }

    [Fact]
    public async Task After_downtime_skip_runs_nothing_and_records_each_missed_due_time_with_the_reason()
    {
        var schedule = await CreateAsync(Hourly(MissedRunPolicy.Skip));

        _clock.Set(Eleven.AddHours(4).AddMinutes(10));
        await _coordinator.TickAsync();

        Assert.Empty(await _coordinator.JobsOfAsync(schedule.Id));
        var runs = await RunsAsync(schedule);
        Assert.Equal(5, runs.Count);
        Assert.All(runs, r => Assert.Equal(("Skipped", "missed while the coordinator was down", (Guid?)null), (r.Status, r.Reason, r.JobId)));

        _clock.Set(Eleven.AddHours(5).AddSeconds(3)); // the next due time, on time, runs
        await _coordinator.TickAsync();
        Assert.Equal(Eleven.AddHours(5), Assert.Single(await _coordinator.JobsOfAsync(schedule.Id)).DueAt);
    }

    [Fact]
    public async Task A_due_time_while_the_previous_run_is_unfinished_is_skipped_with_the_reason()
    {
        var schedule = await CreateAsync(Hourly(overlap: OverlapPolicy.Skip));
        _clock.Set(Eleven.AddSeconds(5));
        await _coordinator.TickAsync();
        var first = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));

        _clock.Set(Eleven.AddHours(1).AddSeconds(5));
        await _coordinator.TickAsync();

        Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        var skipped = (await RunsAsync(schedule))[0];
        Assert.Equal((Eleven.AddHours(1), "Skipped"), (skipped.DueAt, skipped.Status));
        Assert.Contains(first.JobId.ToString(), skipped.Reason, StringComparison.Ordinal);
        Assert.Contains("still running", skipped.Reason, StringComparison.Ordinal);

        await _coordinator.FinishAsync(first.JobId);
        _clock.Set(Eleven.AddHours(2).AddSeconds(5));
        await _coordinator.TickAsync();
        Assert.Equal(2, (await _coordinator.JobsOfAsync(schedule.Id)).Count);
    }

    [Fact]
    public async Task With_wait_a_due_time_starts_once_the_previous_run_ends_and_reuses_it()
    {
        var schedule = await CreateAsync(Hourly(overlap: OverlapPolicy.Wait));
        _clock.Set(Eleven.AddSeconds(5));
        await _coordinator.TickAsync();
        var first = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));

        _clock.Set(Eleven.AddHours(1).AddSeconds(5));
        await _coordinator.TickAsync();
        _clock.Advance(TimeSpan.FromMinutes(10));
        await _coordinator.TickAsync();
        Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal(Eleven.AddHours(1), (await _coordinator.Schedules.GetAsync(schedule.Id, CancellationToken.None))!.WaitingDueAt);

        await _coordinator.FinishAsync(first.JobId);
        _clock.Advance(TimeSpan.FromSeconds(15));
        await _coordinator.TickAsync();
        await _coordinator.TickAsync();

        var jobs = await _coordinator.JobsOfAsync(schedule.Id);
        Assert.Equal(2, jobs.Count);
        Assert.Equal(Eleven.AddHours(1), jobs[1].DueAt);
        Assert.Equal(first.JobId, jobs[1].BaselineJobId);
        Assert.Null((await _coordinator.Schedules.GetAsync(schedule.Id, CancellationToken.None))!.WaitingDueAt);
    }

    [Fact]
    public async Task A_paused_schedule_fires_nothing_and_on_resume_does_not_replay_the_paused_period()
    {
        var schedule = await CreateAsync(Hourly());
        await _coordinator.Schedules.UpdateAsync(schedule.Id, new ScheduleUpdate(Paused: true), CancellationToken.None);

        _clock.Set(Eleven.AddHours(2).AddMinutes(30));
        await _coordinator.TickAsync();
        Assert.Empty(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Null((await _coordinator.Schedules.ViewAsync((await _coordinator.Schedules.GetAsync(schedule.Id, CancellationToken.None))!, false, CancellationToken.None)).NextDueAt);

        var resumed = await _coordinator.Schedules.UpdateAsync(schedule.Id, new ScheduleUpdate(Paused: false), CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(20));
        await _coordinator.TickAsync();
        Assert.Empty(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal(Eleven.AddHours(3), (await _coordinator.Schedules.ViewAsync(resumed!, false, CancellationToken.None)).NextDueAt);

        _clock.Set(Eleven.AddHours(3).AddSeconds(5));
        await _coordinator.TickAsync();
        Assert.Equal(Eleven.AddHours(3), Assert.Single(await _coordinator.JobsOfAsync(schedule.Id)).DueAt);
    }

    [Fact]
    public async Task Two_coordinators_racing_on_one_state_store_make_exactly_one_job_per_due_time()
    {
        using var other = new ScheduleCoordinator(_work, _clock);
        var schedule = await CreateAsync(Hourly());

        for (var hour = 0; hour < 4; hour++)
        {
            _clock.Set(Eleven.AddHours(hour).AddSeconds(5));
            await Task.WhenAll(Enumerable.Range(0, 3).SelectMany(_ => new[] { Task.Run(_coordinator.TickAsync), Task.Run(other.TickAsync) }));
            foreach (var job in await _coordinator.JobsOfAsync(schedule.Id))
            {
                if (!job.IsTerminal)
                {
                    await _coordinator.FinishAsync(job.JobId);
                }
            }
        }

        var jobs = await _coordinator.JobsOfAsync(schedule.Id);
        Assert.Equal(Enumerable.Range(0, 4).Select(h => Eleven.AddHours(h)), jobs.Select(j => j.DueAt!.Value));
        Assert.All(jobs, j => Assert.Equal(ScheduleJobIds.For(schedule.Id, j.DueAt!.Value), j.JobId));
        Assert.All(await RunsAsync(schedule), r => Assert.NotEqual("Skipped", r.Status));
    }

    [Fact]
    public async Task A_run_decided_by_a_coordinator_that_died_before_creating_its_job_gets_exactly_one_job_on_the_next_tick()
    {
        var schedule = await CreateAsync(Hourly());
        var jobId = ScheduleJobIds.For(schedule.Id, Eleven);
        // What a coordinator killed right after writing the decision leaves behind: the run record, no job.
        await _coordinator.Store.TryCreateRunAsync(
            new ScheduleRunRecord { ScheduleId = schedule.Id, DueAt = Eleven, Trigger = ScheduleTriggers.Cron, CreatedAt = Eleven, JobId = jobId },
            CancellationToken.None);
        Assert.Null(await _coordinator.Jobs.GetAsync(jobId, CancellationToken.None));

        _clock.Set(Eleven.AddSeconds(40));
        using (var restarted = new ScheduleCoordinator(_work, _clock))
        {
            await restarted.TickAsync();
            await restarted.TickAsync();
        }

        await _coordinator.TickAsync();
        var job = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal((jobId, Eleven), (job.JobId, job.DueAt!.Value));
        Assert.True(Assert.Single(await _coordinator.Store.ListRunsAsync(schedule.Id, CancellationToken.None)).JobStored);
    }

    [Fact]
    public async Task A_run_whose_job_was_removed_later_is_not_created_again()
    {
        var schedule = await CreateAsync(Hourly());
        _clock.Set(Eleven.AddSeconds(5));
        await _coordinator.TickAsync();
        var job = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        await _coordinator.FinishAsync(job.JobId);
        await _coordinator.Jobs.DeleteAsync(job.JobId, CancellationToken.None);

        await _coordinator.TickAsync();

        Assert.Empty(await _coordinator.JobsOfAsync(schedule.Id));
    }

    [Fact]
    public async Task A_trigger_is_a_run_with_due_time_now_and_its_derived_job()
    {
        var schedule = await CreateAsync(Hourly(output: Path.Combine(_work, "outputs", "fixed")));

        var start = await _coordinator.Schedules.TriggerAsync(schedule, CancellationToken.None);
        await _coordinator.TickAsync();

        var job = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal((Start, ScheduleJobIds.For(schedule.Id, Start)), (start.Run.DueAt, job.JobId));
        Assert.Equal("manual", Assert.Single(await RunsAsync(schedule)).Trigger);
    }

    [Fact]
    public async Task A_fixed_output_is_taken_over_by_the_next_run_and_the_next_run_reuses_the_completed_one()
    {
        var schedule = await CreateAsync(Hourly(output: Path.Combine(_work, "outputs", "fixed")));
        _clock.Set(Eleven.AddSeconds(5));
        await _coordinator.TickAsync();
        var first = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        await _coordinator.FinishAsync(first.JobId, Contracts.Api.JobStatus.CompletedWithErrors);

        _clock.Set(Eleven.AddHours(1).AddSeconds(5));
        await _coordinator.TickAsync();

        var second = (await _coordinator.JobsOfAsync(schedule.Id))[1];
        Assert.Equal(first.Output, second.Output);
        Assert.Equal(first.JobId, second.BaselineJobId);
        Assert.Equal(second.JobId, (await _coordinator.Jobs.GetAsync(first.JobId, CancellationToken.None))!.OutputTakenOverBy);
    }

    [Fact]
    public async Task With_rescore_weights_other_than_at_the_last_run_start_a_run_at_once()
    {
        var schedule = await CreateAsync(Hourly() with { OnModelUpdate = ModelUpdatePolicy.Rescore, Seed = 7 });
        Assert.Equal("random-seed-7", schedule.LastWeights);
        await _coordinator.TickAsync();
        Assert.Empty(await _coordinator.JobsOfAsync(schedule.Id));

        // As if the last run had been made with other weights than those in place now.
        await _coordinator.Store.UpdateAsync(schedule.Id, s => s with { LastWeights = "sha256:older" }, CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(15));
        await _coordinator.TickAsync();
        await _coordinator.TickAsync();

        var job = Assert.Single(await _coordinator.JobsOfAsync(schedule.Id));
        Assert.Equal(Start.AddSeconds(15), job.DueAt);
        Assert.Equal("modelUpdate", Assert.Single(await RunsAsync(schedule)).Trigger);
        Assert.Equal("random-seed-7", (await _coordinator.Schedules.GetAsync(schedule.Id, CancellationToken.None))!.LastWeights);
    }

    [Fact]
    public async Task A_schedule_is_validated_like_the_job_it_would_submit()
    {
        var refused = await Assert.ThrowsAsync<ScheduleValidationException>(() => CreateAsync(
            new ScheduleRequest("", "/etc", "efficientnet_b99", "0 3 * *", "Nowhere/Land")));

        Assert.Contains(refused.Errors, e => e.Contains("'name'", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("'cron'", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("'timeZone'", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("'model'", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("/etc", StringComparison.Ordinal));
    }
}
