using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Checks a job request before anything is written, so that a bad request is refused with its reasons, among
/// them a dataset or output outside the coordinator's <see cref="LocationPolicy"/>.</summary>
public sealed class JobSpecValidator(IStorageResolver storage, [FromKeyedServices(LocationPolicies.Coordinator)] LocationPolicy policy)
{
    public const int MaxTopK = 1000;

    public IReadOnlyList<string> Validate(JobSpec spec)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.Dataset))
        {
            errors.Add("'dataset' is required: a folder/prefix of images or a manifest file.");
        }
        else if (CheckLocation("dataset", spec.Dataset, errors) && policy.Check(LocationUse.Dataset, spec.Dataset) is { } refusal)
        {
            errors.Add(refusal.Message);
        }

        // An output plainly overlapping the state is left to OutputOwnership, which answers it as a conflict (409); one
        // that reaches the state only through a symbolic link is refused here, since OutputOwnership compares paths as written.
        if (spec.Output is not null
            && CheckLocation("output", spec.Output, errors)
            && policy.Check(LocationUse.Output, spec.Output) is { } outputRefusal
            && outputRefusal is not { Rule: LocationRule.Reserved, ViaLink: false })
        {
            errors.Add(outputRefusal.Message);
        }

        if (string.IsNullOrWhiteSpace(spec.Model))
        {
            errors.Add("'model' is required, e.g. efficientnet_b0 (see `effnet models list`).");
        }
        else if (!ModelCatalogue.TryGet(spec.Model, out _))
        {
            errors.Add($"'model': unknown model {Quote.Input(spec.Model)}. Known: {string.Join(", ", ModelCatalogue.All.Select(v => v.Id))}.");
        }

        if (spec.ShardSize is < ShardPlanner.MinShardSize or > ShardPlanner.MaxShardSize)
        {
            errors.Add($"'shardSize' must be between {ShardPlanner.MinShardSize} and {ShardPlanner.MaxShardSize}, not {spec.ShardSize}.");
        }

        if (spec.TopK is < 1 or > MaxTopK)
        {
            errors.Add($"'topK' must be between 1 and {MaxTopK}, not {spec.TopK}.");
        }

        if (spec.Seed < 0)
        {
            errors.Add($"'seed' must not be negative, not {spec.Seed}.");
        }

        return errors;
    }

    private bool CheckLocation(string field, string location, List<string> errors)
    {
        try
        {
            storage.Resolve(location);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or UriFormatException)
        {
            errors.Add($"'{field}' {Quote.Input(location)}: {Quote.Message(e.Message)}");
            return false;
        }
    }
}

