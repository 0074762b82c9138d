using System.Text;
using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>
/// Writes an incremental job's plan (<c>incremental.jsonl</c>) one decision at a time: an image whose previous record
/// can be reused, one to classify (new, changed, or not reusable) and a path the dataset no longer has. The images to
/// classify go on to the job's shard plan in batches, and the counts of each kind are kept for the job record.
/// </summary>
internal sealed class IncrementalPlanLines(Stream destination, ShardPlanWriter plan, bool canReuse) : IAsyncDisposable
{
    private const int ClassifyBatch = 4096;

    private readonly StreamWriter _writer = new(destination, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
    private readonly List<ShardImage> _toClassify = new(ClassifyBatch);

    public long Reused { get; private set; }

    public long New { get; private set; }

    public long Changed { get; private set; }

    public long Removed { get; private set; }

    /// <param name="before">The image's previous record, or null when the baseline has none.</param>
    public async Task ImageAsync(ShardImage image, PredictionRecord? before, CancellationToken cancellationToken)
    {
        PlanLine line;
        if (before is null)
        {
            New++;
            line = new PlanLine { Classify = image.Path, Change = "new" };
        }
        else
        {
            var same = image.Fingerprint is { } now && before.Fingerprint is { } then && now.SameContentAs(then);
            if (same && canReuse && Reusable(before))
            {
                Reused++;
                line = new PlanLine
                {
                    Reuse = before with
                    {
                        Label = image.Label,
                        Fingerprint = image.Fingerprint! with { Sha256 = before.Fingerprint!.Sha256 },
                    },
                };
            }
            else
            {
                Changed += same ? 0 : 1;
                line = new PlanLine { Classify = image.Path, Change = same ? null : "changed", Previous = before.Top1 };
            }
        }

        await WriteAsync(line, cancellationToken);
        if (line.Classify is not null)
        {
            _toClassify.Add(image);
            if (_toClassify.Count == ClassifyBatch)
            {
                await FlushAsync(cancellationToken);
            }
        }
    }

    /// <summary>A previous record whose path the dataset no longer has.</summary>
    public Task RemovedAsync(PredictionRecord before, CancellationToken cancellationToken)
    {
        Removed++;
        return WriteAsync(new PlanLine { Removed = before.Path, Previous = before.Top1 }, cancellationToken);
    }

    /// <summary>Hands the last images to the shard plan and flushes the plan file (the caller completes the shard plan).</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        await _writer.FlushAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();

    // A record of an image that could not be read says nothing about its content: classify it again.
    private static bool Reusable(PredictionRecord record) => record.Fingerprint is not null && record.ErrorKind != "not-found";

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        await plan.AddAsync(_toClassify, cancellationToken);
        _toClassify.Clear();
    }

    private Task WriteAsync(PlanLine line, CancellationToken cancellationToken) =>
        _writer.WriteLineAsync(JsonSerializer.Serialize(line, IncrementalJsonContext.Default.PlanLine).AsMemory(), cancellationToken);
}
