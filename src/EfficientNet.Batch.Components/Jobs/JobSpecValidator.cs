using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Storage;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Checks a job request before anything is written, so that a bad request is refused with its reasons.</summary>
public sealed class JobSpecValidator(IStorageResolver storage)
{
    public const int MaxTopK = 1000;

    public IReadOnlyList<string> Validate(JobSpec spec)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.Dataset))
        {
            errors.Add("'dataset' is required: a folder/prefix of images or a manifest file.");
        }
        else
        {
            CheckLocation("dataset", spec.Dataset, errors);
        }

        if (spec.Output is not null)
        {
            CheckLocation("output", spec.Output, errors);
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

    private void CheckLocation(string field, string location, List<string> errors)
    {
        try
        {
            storage.Resolve(location);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or UriFormatException)
        {
            errors.Add($"'{field}' {Quote.Input(location)}: {Quote.Message(e.Message)}");
        }
    }
}

