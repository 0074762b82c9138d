using EfficientNet.Batch.Models.Download;
using EfficientNet.Batch.Models.Store;

namespace EfficientNet.Batch.Cli.Commands;

/// <summary>Before <c>run</c> and <c>classify</c> load a model: when its weights are not in the store, pull the
/// checkpoint from the catalogue (or the mirror in $EFFNET_CHECKPOINT_MIRROR), and say so.</summary>
internal static class WeightsOnFirstUse
{
    /// <returns>Null when the model is ready, else the exit code after the reason was printed.</returns>
    public static async Task<int?> EnsureAsync(ModelStore store, string modelId, bool randomWeights, int seed, CancellationToken cancellationToken)
    {
        if (randomWeights || store.HasImportedWeights(modelId))
        {
            return null;
        }

        Console.Error.WriteLine($"Weights for {modelId} are not in {store.Root}: pulling the checkpoint (first use).");
        using var puller = ModelPuller.Create(store, CheckpointMirror.Resolve(null));
        using var acquirer = new ModelAcquirer(store, puller);
        try
        {
            var model = await PullProgressDisplay.RunAsync(reporter => acquirer.EnsureAvailableAsync(modelId, null, reporter, cancellationToken));
            Console.Error.WriteLine($"Pulled {modelId}: {model.WeightsDescription}");
            return null;
        }
        catch (ModelDownloadFailedException e)
        {
            CliErrors.Report($"{e.Message} For an untrained smoke test, pass --random-weights.", e);
            return ExitCodes.ModelUnavailable;
        }
    }

    /// <summary>Stored weights whose provenance says they were generated (an export of <c>--random-weights</c>,
    /// imported again) give meaningless labels: say so, as <c>--random-weights</c> itself does.</summary>
    public static void WarnIfUntrained(ResolvedModel resolved, string modelId, bool randomWeights)
    {
        if (resolved.Untrained && !randomWeights)
        {
            Console.Error.WriteLine($"warning: the stored weights of {modelId} are UNTRAINED ({resolved.WeightsDescription}); the labels are meaningless.");
        }
    }
}
