using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>A dataset listed a page at a time in its own order (<see cref="DatasetLister.StreamAsync"/>, with
/// fingerprints), handing each page to <paramref name="onPage"/>.</summary>
public delegate Task<DatasetSummary> DatasetStream(Func<IReadOnlyList<ShardImage>, CancellationToken, Task> onPage, CancellationToken cancellationToken);

/// <summary>What an incremental job decided, what its listing found, and how the listing met the baseline.</summary>
public sealed record IncrementalPlan(IncrementalPlanInfo Info, DatasetSummary Listed, BaselineComparison Comparison)
{
    /// <summary>The listing was joined with the baseline as it streamed.</summary>
    public bool Joined => Comparison == BaselineComparison.Joined;
}

/// <summary>How an incremental job's listing was compared with its baseline.</summary>
public enum BaselineComparison
{
    /// <summary>Both in ordinal path order, walked side by side as the listing streamed (<see cref="SortedBaseline"/>).</summary>
    Joined,

    /// <summary>Out of path order, with a baseline small enough to hold in a dictionary.</summary>
    InMemory,

    /// <summary>Out of path order, with a baseline too large to hold: both partitioned on local disk by path and joined a
    /// partition at a time (<see cref="SpilledBaseline"/>).</summary>
    Spilled,
}

/// <summary>
/// Decides, for each image of today's dataset, whether its previous record can be reused: only when the previous run
/// has the job's model identity and the image's listing fingerprint says its content is unchanged. Writes the plan
/// (reused records, images to classify and removed paths) under the job's output, where the merge follows it, and hands
/// the images to classify to the job's shard plan as it goes. Deciding reads listings and previous results only: no
/// image byte is read.
/// <para>A folder or prefix is listed in ordinal path order, and so are the results of earlier runs of it: the listing
/// and the baseline are then joined as they stream (<see cref="SortedBaseline"/>), so memory holds a page of the
/// listing and one record per baseline source, whatever the dataset's size. A dataset or baseline out of that order (a
/// manifest, which is therefore not tried) is found out as soon as a path goes backwards; the plan is then started again, the listing streamed
/// past the baseline in a dictionary when it has at most <see cref="InMemoryBaselineLimit"/> records, else past both
/// partitioned on local disk (<see cref="SpilledBaseline"/>), so that memory stays bounded in any order.</para>
/// </summary>
public sealed class IncrementalPlanner(IStorageResolver storage, BaselineReader baselines, ModelIdentityResolver identities)
{
    public const int DefaultInMemoryBaselineLimit = 65_536;

    public const int DefaultSpillPartitions = 64;

    /// <summary>Previous records an out-of-order comparison holds in a dictionary (a few hundred bytes each); past it, the
    /// comparison spills to local disk.</summary>
    public int InMemoryBaselineLimit { get; init; } = DefaultInMemoryBaselineLimit;

    /// <summary>Partitions of a spilled comparison: at 10,000,000 previous records, about 156,000 in memory at a time.</summary>
    public int SpillPartitions { get; init; } = DefaultSpillPartitions;

    /// <param name="listedInPathOrder">The dataset is listed in ascending ordinal path order (a folder or prefix), so its
    /// listing is first tried as a join with the baseline. False for a manifest, listed in its own order: it goes straight
    /// to the comparison in any order, so that its images' properties, fetched one call each for their fingerprints, are
    /// never fetched twice (a join that finds the order broken late would list it all again).</param>
    public async Task<IncrementalPlan> PlanAsync(
        JobRecord job, DatasetStream dataset, ShardPlanWriter plan, bool listedInPathOrder, CancellationToken cancellationToken)
    {
        var identity = await identities.ResolveAsync(job.Spec, cancellationToken);
        var sources = await baselines.FindAsync(job, cancellationToken);
        var usable = identity is null
            ? []
            : sources.Where(s => s.Identity is not null && identity.DifferenceFrom(s.Identity) is null).ToList();
        var fullReason = FullReason(job, identity, sources, usable);
        // Without a usable run, the newest one still tells what changed (and whose top-1 moved).
        List<BaselineSource> compared = usable.Count > 0 ? usable : sources.Count > 0 ? [sources[^1]] : [];
        var canReuse = usable.Count > 0;
        var planKey = JobOutputLayout.IncrementalPlanKey(job.JobId);
        var output = storage.Resolve(job.Output);

        IncrementalPlanLines lines = null!;
        DatasetSummary listed = null!;
        Task WritePlanAsync(Func<IncrementalPlanLines, CancellationToken, Task<DatasetSummary>> compare) => output.Store.CommitAsync(
            output.KeyFor(planKey),
            async (stream, ct) =>
            {
                await using var planLines = lines = new IncrementalPlanLines(stream, plan, canReuse);
                listed = await compare(planLines, ct);
                await planLines.CompleteAsync(ct);
            },
            cancellationToken);

        var comparison = BaselineComparison.Joined;
        if (!listedInPathOrder || !await TryJoinAsync())
        {
            await WritePlanAsync(async (planLines, ct) =>
            {
                (var summary, comparison) = await CompareUnorderedAsync(job.JobId, dataset, compared, planLines, ct);
                return summary;
            });
        }

        var baseline = compared.Count == 0 ? null : string.Join("; ", compared.Select(s => s.Description));
        var info = new IncrementalPlanInfo(identity, baseline, fullReason, lines.Reused, lines.New, lines.Changed, lines.Removed, planKey);
        return new IncrementalPlan(info, listed, comparison);

        // False when the listing or a baseline source turned out not to be in path order: the plan stored so far is
        // dropped, to be made again.
        async Task<bool> TryJoinAsync()
        {
            try
            {
                await WritePlanAsync((planLines, ct) => JoinAsync(dataset, compared, planLines, ct));
                return true;
            }
            catch (PlanOrderException)
            {
                plan.Restart();
                return false;
            }
        }
    }

    /// <summary>The listing and the baseline, both in ascending ordinal path order, walked side by side.</summary>
    private static async Task<DatasetSummary> JoinAsync(DatasetStream dataset, List<BaselineSource> compared, IncrementalPlanLines lines, CancellationToken cancellationToken)
    {
        await using var baseline = await SortedBaseline.OpenAsync(compared, cancellationToken);
        string? last = null;
        var listed = await dataset(
            async (page, ct) =>
            {
                foreach (var image in page)
                {
                    // Without a baseline there is nothing to join: any order will do.
                    if (compared.Count > 0 && last is not null && string.CompareOrdinal(image.Path, last) <= 0)
                    {
                        throw new PlanOrderException($"the dataset is not in path order ('{image.Path}' follows '{last}')");
                    }

                    last = image.Path;
                    var before = await baseline.SeekAsync(image.Path, removed => lines.RemovedAsync(removed, ct));
                    await lines.ImageAsync(image, before, ct);
                }
            },
            cancellationToken);
        await baseline.DrainAsync(removed => lines.RemovedAsync(removed, cancellationToken));
        return listed;
    }

    /// <summary>Any order: the baseline read into a dictionary by path (a later source's record replaces an earlier
    /// one's) while it has at most <see cref="InMemoryBaselineLimit"/> records, and the listing streamed past it; past
    /// that, the records so far and the rest go to a <see cref="SpilledBaseline"/>, the listing after them, and the two
    /// are joined there a partition at a time.</summary>
    private async Task<(DatasetSummary Listed, BaselineComparison Comparison)> CompareUnorderedAsync(
        Guid jobId, DatasetStream dataset, List<BaselineSource> compared, IncrementalPlanLines lines, CancellationToken cancellationToken)
    {
        var previous = new PreviousRecords();
        SpilledBaseline? spilled = null;
        try
        {
            foreach (var source in compared)
            {
                await foreach (var record in source.ReadRecords(cancellationToken))
                {
                    if (spilled is not null)
                    {
                        spilled.AddRecord(record);
                        continue;
                    }

                    previous.Add(record);
                    if (previous.Count > InMemoryBaselineLimit)
                    {
                        // Each path once, with the record that won so far, before the later ones.
                        spilled = SpilledBaseline.Create(jobId, SpillPartitions);
                        foreach (var kept in previous.All)
                        {
                            spilled.AddRecord(kept);
                        }

                        previous.Clear();
                    }
                }
            }

            return spilled is null
                ? (await CompareInMemoryAsync(dataset, previous, lines, cancellationToken), BaselineComparison.InMemory)
                : (await CompareSpilledAsync(dataset, spilled, lines, cancellationToken), BaselineComparison.Spilled);
        }
        finally
        {
            spilled?.Dispose();
        }
    }

    /// <summary>The listing streamed past the baseline in a dictionary; the removed paths are known once it has ended.</summary>
    private static async Task<DatasetSummary> CompareInMemoryAsync(
        DatasetStream dataset, PreviousRecords previous, IncrementalPlanLines lines, CancellationToken cancellationToken)
    {
        var listed = await dataset(
            async (page, ct) =>
            {
                foreach (var image in page)
                {
                    await lines.ImageAsync(image, previous.Match(image.Path), ct);
                }
            },
            cancellationToken);
        foreach (var removed in previous.Unmatched)
        {
            await lines.RemovedAsync(removed, cancellationToken);
        }

        return listed;
    }

    /// <summary>The listing written to the spill beside the baseline, then joined with it there.</summary>
    private static async Task<DatasetSummary> CompareSpilledAsync(
        DatasetStream dataset, SpilledBaseline spilled, IncrementalPlanLines lines, CancellationToken cancellationToken)
    {
        var listed = await dataset(
            (page, _) =>
            {
                foreach (var image in page)
                {
                    spilled.AddImage(image);
                }

                return Task.CompletedTask;
            },
            cancellationToken);
        await spilled.JoinAsync(
            (image, before) => lines.ImageAsync(image, before, cancellationToken), removed => lines.RemovedAsync(removed, cancellationToken), cancellationToken);
        return listed;
    }

    /// <summary>Records the identity a job is planned with beside its shard results, so that an interrupted run's
    /// committed shards can be reused by the next run into the same output.</summary>
    public async Task WritePlannedRunAsync(JobRecord job, ModelIdentity? identity, DateTimeOffset plannedAt, CancellationToken cancellationToken)
    {
        var output = storage.Resolve(job.Output);
        await output.Store.CommitAsync(
            output.KeyFor(JobOutputLayout.PlannedRunKey(job.JobId)),
            (stream, ct) => JsonSerializer.SerializeAsync(stream, new PlannedRun(job.JobId, identity, plannedAt), IncrementalJsonContext.Default.PlannedRun, ct),
            cancellationToken);
    }

    private static string? FullReason(JobRecord job, ModelIdentity? identity, IReadOnlyList<BaselineSource> sources, List<BaselineSource> usable)
    {
        if (usable.Count > 0)
        {
            return null;
        }

        if (sources.Count == 0)
        {
            return job.BaselineJobId is { } id
                ? $"the previous run (job {id}) is not a completed run whose output is still its own"
                : "there is no previous run to reuse";
        }

        if (identity is null)
        {
            return $"no weights of {job.Spec.Model} are published, so the identity of this run's model is not known before it runs";
        }

        var newest = sources[^1];
        return newest.Identity is null
            ? $"{newest.Description} recorded no model identity"
            : identity.DifferenceFrom(newest.Identity);
    }
}
