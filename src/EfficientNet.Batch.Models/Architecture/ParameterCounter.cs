using EfficientNet.Batch.Models.Onnx;

namespace EfficientNet.Batch.Models.Architecture;

/// <summary>Parameter counts. The checkpoint count (learnable tensors of <see cref="ArchSpec.ParameterShapes"/>) is
/// what the spec and the seed report; a BN-folded ONNX graph holds a different number (each folded conv gains a bias,
/// γ/β/running stats disappear), so both are available.</summary>
public static class ParameterCounter
{
    /// <summary>Sum of learnable elements: conv/fc weights and biases, BN γ and β; running statistics excluded.</summary>
    public static long CountLearnable(IEnumerable<ParameterShape> shapes) =>
        shapes.Where(s => !s.IsRunningStatistic).Sum(s => s.ElementCount);

    /// <summary>Learnable elements of a state dict, judged by key: BN running statistics and
    /// <c>num_batches_tracked</c> are not parameters.</summary>
    public static long CountLearnable(StateDict weights) =>
        weights.Where(kv => !IsBufferKey(kv.Key)).Sum(kv => (long)kv.Value.Data.Length);

    /// <summary>Sum of all initializer elements of a built ONNX graph.</summary>
    public static long CountInitializerElements(ModelProto model) =>
        model.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (count, d) => count * d));

    internal static bool IsBufferKey(string key) =>
        key.EndsWith(".running_mean", StringComparison.Ordinal)
        || key.EndsWith(".running_var", StringComparison.Ordinal)
        || key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);
}
