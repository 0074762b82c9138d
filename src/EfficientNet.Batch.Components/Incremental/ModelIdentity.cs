using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Incremental;

/// <summary>What makes two runs' records comparable: the model id, its weights and the preprocessing applied. Records
/// are reused only under an equal identity; any difference means a full re-score.</summary>
/// <param name="Weights"><c>sha256:{hex}</c> of the ONNX file for imported weights, <c>random-seed-{n}</c> for
/// generated untrained weights.</param>
public sealed record ModelIdentity(string ModelId, string Weights, Preprocessing Preprocessing)
{
    public static string RandomWeights(int seed) => $"random-seed-{seed}";

    public static string ImportedWeights(string onnxSha256) => $"sha256:{onnxSha256}";

    /// <summary>Why a previous run's records cannot be reused under this identity; null when they can.</summary>
    public string? DifferenceFrom(ModelIdentity previous)
    {
        if (previous.ModelId != ModelId)
        {
            return $"the model changed ({previous.ModelId} → {ModelId})";
        }

        if (previous.Weights != Weights)
        {
            return $"the weights of {ModelId} changed ({previous.Weights} → {Weights})";
        }

        var (a, b) = (previous.Preprocessing, Preprocessing);
        return a.Resolution == b.Resolution && a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std)
            ? null
            : $"the preprocessing of {ModelId} changed ({a.Resolution} px {a.Normalization} → {b.Resolution} px {b.Normalization})";
    }
}
