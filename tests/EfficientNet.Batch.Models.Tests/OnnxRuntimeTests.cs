using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EfficientNet.Batch.Models.Tests;

/// <summary>Runs built graphs in ONNX Runtime (CPU execution provider) to prove they are valid and numerically sane.</summary>
public sealed class OnnxRuntimeTests
{
    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_es")]
    public void Built_graph_runs_and_gives_a_distribution_per_image(string id)
    {
        var variant = ModelCatalogue.Get(id);
        var bytes = EfficientNetOnnxBuilder.ToBytes(
            EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(variant.Architecture, 11), new Dictionary<string, string>()));
        using var session = new InferenceSession(bytes);

        var input = TwoImages(variant.Resolution);

        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var probs = Assert.Single(results).AsTensor<float>();

        Assert.Equal([2, 1000], probs.Dimensions.ToArray());
        var rows = Enumerable.Range(0, 2).Select(n => Enumerable.Range(0, 1000).Select(c => probs[n, c]).ToArray()).ToArray();
        Assert.All(rows, row => Assert.All(row, p => Assert.True(float.IsFinite(p) && p >= 0)));
        Assert.All(rows, row => Assert.Equal(1.0, row.Sum(p => (double)p), 1e-4));
        Assert.NotEqual(rows[0], rows[1]);
        // Random weights must still respond to the image: not saturated, not one class for everything.
        Assert.All(rows, row => Assert.True(row.Max() < 0.99f, $"saturated softmax, max {row.Max()}"));
        Assert.NotEqual(TopFive(rows[0]), TopFive(rows[1]));
    }

    private static int[] TopFive(float[] probs) =>
        [.. probs.Select((p, c) => (p, c)).OrderByDescending(t => t.p).Take(5).Select(t => t.c).Order()];

    /// <summary>Two 3 × r × r images as different as two photos can be: image 0 noise, image 1 smooth stripes and a
    /// ramp.</summary>
    internal static DenseTensor<float> TwoImages(int r)
    {
        var input = new DenseTensor<float>([2, 3, r, r]);
        var random = new SplitMix64(99);
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < r; y++)
            {
                for (var x = 0; x < r; x++)
                {
                    input[0, c, y, x] = (float)random.NextNormalish();
                    input[1, c, y, x] = (float)(Math.Sin((x * 0.05) + c) + ((double)y / r) - 0.5);
                }
            }
        }

        return input;
    }
}
