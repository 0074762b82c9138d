using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Components.Security;

/// <summary>
/// A worker's own check of a shard message before it reads or writes anything: the coordinator checked the job, but a
/// message on the queue can be forged, so the worker trusts only its own policy. The dataset and output must be
/// allowed, the result and cancel-marker keys must stay inside the output, and the image keys inside the dataset
/// (following symbolic links on the local file system).
/// </summary>
public sealed class ShardLocationGuard([FromKeyedServices(LocationPolicies.Worker)] LocationPolicy policy)
{
    /// <summary>Throws <see cref="LocationRefusedException"/> naming the rule when <paramref name="shard"/> may not run here.</summary>
    public void EnsureAllowed(ClassifyShard shard)
    {
        if (FindRefusal(shard) is { } refusal)
        {
            throw new LocationRefusedException(
                $"Job {shard.JobId} shard {shard.ShardIndex} is refused by the worker's location policy: {refusal.Message}");
        }
    }

    private LocationRefusal? FindRefusal(ClassifyShard shard) =>
        policy.Check(LocationUse.Dataset, shard.DatasetLocation)
        ?? policy.Check(LocationUse.Output, shard.OutputLocation)
        ?? CheckOutputKey("result key", shard.ResultKey)
        ?? (shard.CancelMarkerKey is { } marker ? CheckOutputKey("cancel marker key", marker) : null)
        ?? policy.CheckDatasetItems(shard.DatasetLocation, shard.Images.Select(i => i.Path));

    private static LocationRefusal? CheckOutputKey(string what, string key)
    {
        try
        {
            BlobKey.Validate(key, what);
            return null;
        }
        catch (ArgumentException e)
        {
            return new LocationRefusal(LocationRule.Malformed, $"the {what} {Quote.Input(key)} does not stay inside the output: {Quote.Message(e.Message)}");
        }
    }
}
