using EfficientNet.Batch.Components.Models;
using EfficientNet.Batch.Components.Security;
using EfficientNet.Batch.Components.Shards;
using EfficientNet.Batch.Contracts;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>Checks a job request before anything is written, so that a bad request is refused with its reasons, among
/// them a dataset or output outside the coordinator's <see cref="LocationPolicy"/>, and a model that is neither in the
/// zoo nor a custom model in the model store the workers load from (<see cref="ServedModels"/>).</summary>
public sealed class JobSpecValidator(
    IStorageResolver storage,
    [FromKeyedServices(LocationPolicies.Coordinator)] LocationPolicy policy,
    IOptions<ModelStoreOptions> modelStore)
{
    public const int MaxTopK = 1000;

    // Created per use rather than kept in a field: the primary constructor's parameters stay its only state.
    private ServedModels Models => new(storage, modelStore);

    /// <summary>Every check, a custom model looked up in the shared model store when one is configured
    /// (<c>Models:RemoteLocation</c>), else in the local store.</summary>
    public async Task<IReadOnlyList<string>> ValidateAsync(JobSpec spec, CancellationToken cancellationToken) =>
        Check(spec, await ModelErrorAsync(spec.Model, cancellationToken));

    /// <summary>The checks that need no network: a custom model is accepted only from the local store, so with a shared
    /// model store configured it is refused here; <see cref="ValidateAsync"/> accepts it from there.</summary>
    public IReadOnlyList<string> Validate(JobSpec spec) =>
        Check(spec, string.IsNullOrWhiteSpace(spec.Model) || Models.IsKnownLocally(spec.Model) ? null : UnknownModel(spec.Model));

    private List<string> Check(JobSpec spec, string? modelError)
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
        else if (modelError is not null)
        {
            errors.Add(modelError);
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

        Outputs.OutputRequestRules.Validate(spec, errors);

        return errors;
    }

    private async Task<string?> ModelErrorAsync(string? model, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(model) || Models.IsKnownLocally(model))
        {
            return null;
        }

        try
        {
            return await Models.FindAsync(model, cancellationToken) is null ? UnknownModel(model) : null;
        }
        catch (InvalidDataException e)
        {
            return $"'model': the custom model {Quote.Input(model)} in the model store cannot be used: {Quote.Message(e.Message)}";
        }
    }

    private static string UnknownModel(string model) =>
        $"'model': unknown model {Quote.Input(model)}. Known: {string.Join(", ", ModelCatalogue.All.Select(v => v.Id))}"
        + (CustomModelName.IsValid(CustomModelName.Canonicalize(model))
            ? $"; nor is it a custom model in the model store the workers use (import one with `effnet models import FILE --model NAME --arch ARCH --classes NAMES.txt`, and publish it for distributed workers)."
            : ".");

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

