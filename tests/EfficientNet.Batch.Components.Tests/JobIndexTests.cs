using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Contracts.Api;

namespace EfficientNet.Batch.Components.Tests;

public sealed class JobIndexTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static JobRecord Job(int minute, JobStatus status = JobStatus.Completed) => new()
    {
        JobId = Guid.NewGuid(),
        Spec = new JobSpec { Dataset = "d", Model = "efficientnet_b0" },
        Status = status,
        Output = $"out/{minute}",
        SubmittedAt = Start.AddMinutes(minute),
    };

    [Fact]
    public void Pages_walk_every_job_once_newest_first()
    {
        var index = new JobIndex();
        var jobs = Enumerable.Range(0, 25).Select(i => Job(i)).ToList();
        foreach (var job in jobs.AsEnumerable().Reverse())
        {
            index.Upsert(job);
        }

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var (items, next) = index.Page(null, 10, cursor);
            seen.AddRange(items.Select(j => j.JobId));
            cursor = next;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(jobs.AsEnumerable().Reverse().Select(j => j.JobId), seen);
    }

    [Fact]
    public void A_status_filter_pages_over_matching_jobs_only()
    {
        var index = new JobIndex();
        for (var i = 0; i < 30; i++)
        {
            index.Upsert(Job(i, i % 3 == 0 ? JobStatus.Running : JobStatus.Completed));
        }

        var (first, cursor) = index.Page(JobStatus.Running, 4, null);
        var (second, last) = index.Page(JobStatus.Running, 10, cursor);

        Assert.All(first.Concat(second), j => Assert.Equal(JobStatus.Running, j.Status));
        Assert.Equal(10, first.Count + second.Count);
        Assert.Null(last);
    }

    [Fact]
    public void An_update_replaces_the_entry_and_a_delete_removes_it()
    {
        var index = new JobIndex();
        var job = Job(1, JobStatus.Running);
        index.Upsert(job);

        index.Upsert(job with { Status = JobStatus.Completed });
        Assert.Equal(JobStatus.Completed, Assert.Single(index.All()).Status);
        Assert.Empty(index.Unfinished());

        index.Remove(job.JobId);
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void A_record_loaded_from_storage_never_overrides_a_newer_write_or_a_delete()
    {
        var index = new JobIndex();
        var job = Job(1, JobStatus.Running);
        var deleted = Job(2);
        index.Upsert(job with { Status = JobStatus.Completed });
        index.Remove(deleted.JobId);

        index.AddLoaded(job);
        index.AddLoaded(deleted);
        index.LoadingFinished();

        Assert.Equal(JobStatus.Completed, Assert.Single(index.All()).Status);
    }

    [Theory]
    [InlineData("not-a-cursor")]
    [InlineData("MTIzOnh5eg")]
    [InlineData("")]
    public void A_cursor_that_is_not_ours_is_refused(string cursor)
    {
        var index = new JobIndex();
        index.Upsert(Job(1));

        var error = Assert.Throws<FormatException>(() => index.Page(null, 10, cursor));
        Assert.Contains("cursor", error.Message, StringComparison.Ordinal);
    }
}
