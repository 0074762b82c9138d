using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>What an incremental job sends to the workers, and what it decided.</summary>
public sealed record IncrementalPlan(IReadOnlyList<ShardImage> ToClassify, IncrementalPlanInfo Info);

/// <summary>
/// Decides, for each image of today's dataset, whether its previous record can be reused: only when the previous run
/// has the job's model identity and the image's listing fingerprint says its content is unchanged. Writes the plan
/// (reused records, images to classify and removed paths, in dataset order) under the job's output, where the merge
/// follows it. Deciding reads listings and previous results only: no image byte is read.
/// </summary>
public sealed class IncrementalPlanner(IStorageResolver storage, BaselineReader baselines, ModelIdentityResolver identities)
{
    /// <summary>Properties are fetched this many at a time for manifest datasets (their listing has none).</summary>
    private const int PropertyParallelism = 32;

    public async Task<IncrementalPlan> PlanAsync(JobRecord job, DatasetListing listing, CancellationToken cancellationToken)
    {
        var identity = await identities.ResolveAsync(job.Spec, cancellationToken);
        var images = await WithFingerprintsAsync(listing, cancellationToken);
        var sources = await baselines.FindAsync(job, cancellationToken);
        var usable = identity is null
            ? []
            : sources.Where(s => s.Identity is not null && identity.DifferenceFrom(s.Identity) is null).ToList();
        var fullReason = FullReason(job, identity, sources, usable);
        // Without a usable run, the newest one still tells what changed (and whose top-1 moved).
        var compared = usable.Count > 0 ? usable : sources.Count > 0 ? [sources[^1]] : [];
        var previous = new Dictionary<string, PreviousRecord>(StringComparer.Ordinal);
        foreach (var source in compared)
        {
            await foreach (var record in source.ReadRecords(cancellationToken))
            {
                previous[record.Path] = new PreviousRecord(record);
            }
        }

        var canReuse = usable.Count > 0;
        var toClassify = new List<ShardImage>();
        long reused = 0, added = 0, changed = 0, removed = 0;
        var planKey = JobOutputLayout.IncrementalPlanKey(job.JobId);
        var output = storage.Resolve(job.Output);
        await output.Store.CommitAsync(
            output.KeyFor(planKey),
            async (stream, ct) =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach (var image in images)
                {
                    PlanLine line;
                    if (!previous.TryGetValue(image.Path, out var before))
                    {
                        added++;
                        line = new PlanLine { Classify = image.Path, Change = "new" };
                    }
                    else
                    {
                        before.Seen = true;
                        var same = image.Fingerprint is { } now && before.Record.Fingerprint is { } then && now.SameContentAs(then);
                        if (same && canReuse && Reusable(before.Record))
                        {
                            reused++;
                            line = new PlanLine
                            {
                                Reuse = before.Record with
                                {
                                    Label = image.Label,
                                    Fingerprint = image.Fingerprint! with { Sha256 = before.Record.Fingerprint!.Sha256 },
                                },
                            };
                        }
                        else
                        {
                            changed += same ? 0 : 1;
                            line = new PlanLine { Classify = image.Path, Change = same ? null : "changed", Previous = before.Record.Top1 };
                        }
                    }

                    if (line.Classify is not null)
                    {
                        toClassify.Add(image);
                    }

                    await WriteLineAsync(writer, line, ct);
                }

                foreach (var (path, before) in previous)
                {
                    if (!before.Seen)
                    {
                        removed++;
                        await WriteLineAsync(writer, new PlanLine { Removed = path, Previous = before.Record.Top1 }, ct);
                    }
                }
            },
            cancellationToken);

        var baseline = compared.Count == 0 ? null : string.Join("; ", compared.Select(s => s.Description));
        return new IncrementalPlan(toClassify, new IncrementalPlanInfo(identity, baseline, fullReason, reused, added, changed, removed, planKey));
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

    private static Task WriteLineAsync(StreamWriter writer, PlanLine line, CancellationToken cancellationToken) =>
        writer.WriteLineAsync(JsonSerializer.Serialize(line, IncrementalJsonContext.Default.PlanLine).AsMemory(), cancellationToken);

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

    // A record of an image that could not be read says nothing about its content: classify it again.
    private static bool Reusable(PredictionRecord record) => record.Fingerprint is not null && record.ErrorKind != "not-found";

    /// <summary>A manifest's images have no listing entry: their properties are fetched (never their bytes), so the
    /// records of this run carry an ETag that the next run can compare.</summary>
    private async Task<IReadOnlyList<ShardImage>> WithFingerprintsAsync(DatasetListing listing, CancellationToken cancellationToken)
    {
        if (listing.Images.All(i => i.Fingerprint is not null))
        {
            return listing.Images;
        }

        var root = storage.Resolve(listing.Root);
        var images = listing.Images.ToArray();
        await Parallel.ForAsync(0, images.Length, new ParallelOptions { MaxDegreeOfParallelism = PropertyParallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            if (images[i].Fingerprint is null && await root.Store.GetPropertiesAsync(root.KeyFor(images[i].Path), ct) is { } entry)
            {
                images[i] = images[i] with { Fingerprint = Fingerprints.FromListing(entry) };
            }
        });
        return images;
    }

    private sealed class PreviousRecord(PredictionRecord record)
    {
        public PredictionRecord Record { get; } = record;

        public bool Seen { get; set; }
    }
}
