using System.Text;
using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Weights;

/// <summary>Deterministic untrained weights for smoke tests and benchmarks: every key and shape of
/// <see cref="ArchSpec.ParameterShapes"/>, with scales that keep activations finite and input-dependent through b8.</summary>
public static class RandomWeights
{
    // Variance gains that keep E[x²] roughly constant from layer to layer: 1/E[act(z)²] for z ~ N(0, 1).
    private const double ReluGain = 2.0;
    private const double SwishGain = 2.81; // E[swish(z)²] ≈ 0.356
    private const double LinearGain = 1.0;

    /// <summary>The SE gate (a sigmoid, ≈ 0.5) shrinks the signal before the projection conv; compensate partly
    /// (the full 4× made b4..b8 saturate the softmax).</summary>
    private const double GatedProjectionGain = 2.0;

    /// <summary>Residual branches end in a small γ (like zero-init-residual training): otherwise every residual Add
    /// doubles the activation variance and the deep archs saturate the softmax for every input.</summary>
    private const double ResidualBranchGamma = 0.2;

    public static StateDict Generate(ArchSpec arch, int seed)
    {
        var shapes = arch.ParameterShapes();
        var residualBranchEnds = arch.Blocks
            .Where(b => b.HasResidual)
            .Select(b => $"{b.KeyPrefix}.{(b.Type == BlockType.EdgeResidual ? "conv2" : "linear_conv")}.bn.weight")
            .ToHashSet(StringComparer.Ordinal);
        var gatedProjections = arch.Blocks
            .Where(b => b.HasSqueezeExcitation)
            .Select(b => $"{b.KeyPrefix}.linear_conv.conv.weight")
            .ToHashSet(StringComparer.Ordinal);
        var activationGain = arch.Activation == ActivationKind.Swish ? SwishGain : ReluGain;

        var tensors = new TensorData[shapes.Count];
        // Each tensor has its own stream (seed ⊕ key hash), so parallel generation stays deterministic.
        Parallel.For(0, shapes.Count, i =>
        {
            var key = shapes[i].Key;
            var weightGain = gatedProjections.Contains(key) ? GatedProjectionGain
                : IsFollowedByActivation(key) ? activationGain
                : LinearGain;
            tensors[i] = GenerateTensor(shapes[i], seed, residualBranchEnds.Contains(key), weightGain);
        });

        var weights = new StateDict();
        for (var i = 0; i < shapes.Count; i++)
        {
            weights.Add(shapes[i].Key, tensors[i]);
        }

        return weights;
    }

    /// <summary>Projection convs, ER conv2, SE convs and the classifier feed no activation of their own.</summary>
    private static bool IsFollowedByActivation(string key) =>
        !(key.Contains(".linear_conv.", StringComparison.Ordinal)
            || key.Contains(".conv2.conv.", StringComparison.Ordinal)
            || key.Contains(".se.", StringComparison.Ordinal)
            || key.StartsWith("head.", StringComparison.Ordinal));

    private static TensorData GenerateTensor(ParameterShape shape, int seed, bool endsResidualBranch, double weightGain)
    {
        var random = new SplitMix64(Fnv1a(shape.Key) ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL));
        var key = shape.Key;
        Func<double> next = key switch
        {
            _ when endsResidualBranch => () => ResidualBranchGamma * (1.0 + (0.1 * random.NextNormalish())),
            _ when key.EndsWith(".bn.weight", StringComparison.Ordinal) => () => 1.0 + (0.1 * random.NextNormalish()),
            _ when key.EndsWith(".bn.bias", StringComparison.Ordinal) => () => 0.02 * random.NextNormalish(),
            _ when key.EndsWith(".bn.running_mean", StringComparison.Ordinal) => () => 0.02 * random.NextNormalish(),
            _ when key.EndsWith(".bn.running_var", StringComparison.Ordinal) => () => 0.75 + (0.5 * random.NextUniform()),
            _ when key.EndsWith(".bias", StringComparison.Ordinal) => () => 0.02 * random.NextNormalish(),
            _ => FanInNormal(shape, random, weightGain),
        };

        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)next();
        }

        return new TensorData((int[])shape.Shape.Clone(), data);
    }

    /// <summary>Zero-mean weights with variance gain / fan-in (He initialisation when gain = 2).</summary>
    private static Func<double> FanInNormal(ParameterShape shape, SplitMix64 random, double gain)
    {
        var fanIn = shape.Shape.Skip(1).Aggregate(1, (product, d) => product * d);
        var std = Math.Sqrt(gain / fanIn);
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
