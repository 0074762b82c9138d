using System.Text;
using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Weights;

/// <summary>Deterministic untrained weights for smoke tests and benchmarks: every key and shape of
/// <see cref="ArchSpec.ParameterShapes"/>, with scales that keep activations finite through b8.</summary>
public static class RandomWeights
{
    public static StateDict Generate(ArchSpec arch, int seed)
    {
        var shapes = arch.ParameterShapes();
        var tensors = new TensorData[shapes.Count];
        var residualBranchEnds = arch.Blocks
            .Where(b => b.HasResidual)
            .Select(b => $"{b.KeyPrefix}.{(b.Type == BlockType.EdgeResidual ? "conv2" : "linear_conv")}.bn.weight")
            .ToHashSet(StringComparer.Ordinal);
        // Each tensor has its own stream (seed ⊕ key hash), so parallel generation stays deterministic.
        Parallel.For(0, shapes.Count, i => tensors[i] = GenerateTensor(shapes[i], seed, residualBranchEnds.Contains(shapes[i].Key)));

        var weights = new StateDict();
        for (var i = 0; i < shapes.Count; i++)
        {
            weights.Add(shapes[i].Key, tensors[i]);
        }

        return weights;
    }

    /// <summary>Residual branches end in a small γ (like zero-init-residual training): otherwise every residual Add
    /// doubles the activation variance and the deep archs saturate the softmax for every input.</summary>
    private const double ResidualBranchGamma = 0.2;

    private static TensorData GenerateTensor(ParameterShape shape, int seed, bool endsResidualBranch)
    {
        var random = new SplitMix64(Fnv1a(shape.Key) ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL));
        var data = new float[shape.ElementCount];
        var key = shape.Key;
        Func<double> next = key switch
        {
            _ when endsResidualBranch => () => ResidualBranchGamma * (1.0 + (0.1 * random.NextNormalish())),
            _ when key.EndsWith(".bn.weight", StringComparison.Ordinal) => () => 1.0 + (0.1 * random.NextNormalish()),
            _ when key.EndsWith(".bn.bias", StringComparison.Ordinal) => () => 0.02 * random.NextNormalish(),
            _ when key.EndsWith(".bn.running_mean", StringComparison.Ordinal) => () => 0.02 * random.NextNormalish(),
            _ when key.EndsWith(".bn.running_var", StringComparison.Ordinal) => () => 0.75 + (0.5 * random.NextUniform()),
            _ when key.EndsWith(".bias", StringComparison.Ordinal) => () => 0.02 * random.NextNormalish(),
            _ => WeightSampler(shape, random),
        };

        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)next();
        }

        return new TensorData((int[])shape.Shape.Clone(), data);
    }

    /// <summary>He (fan-in) scale where an activation follows; variance-preserving 1/fan-in where none does
    /// (projection convs, SE convs, the classifier), so residual sums grow slowly.</summary>
    private static Func<double> WeightSampler(ParameterShape shape, SplitMix64 random)
    {
        var fanIn = shape.Shape.Skip(1).Aggregate(1, (product, d) => product * d);
        var key = shape.Key;
        var followedByActivation = !(key.Contains(".linear_conv.", StringComparison.Ordinal)
            || key.Contains(".conv2.conv.", StringComparison.Ordinal)
            || key.Contains(".se.", StringComparison.Ordinal)
            || key.StartsWith("head.", StringComparison.Ordinal));
        var std = Math.Sqrt((followedByActivation ? 2.0 : 1.0) / fanIn);
        return () => std * random.NextNormalish();
    }

    private static ulong Fnv1a(string text)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }
}
