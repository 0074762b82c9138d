using System.Diagnostics;
using EfficientNet.Batch.Models.Architecture;
using Xunit.Abstractions;

namespace EfficientNet.Batch.Models.Tests.Reference;

/// <summary>Numerical proof without pretrained weights: the product's ONNX graph (BN folded, float32, ONNX Runtime
/// CPU) against an independent double-precision reference written from the spec, on random weights.</summary>
public sealed class ReferenceComparisonTests(ReferenceComparisonFixture fixture, ITestOutputHelper output)
    : IClassFixture<ReferenceComparisonFixture>
{
    // Tolerances. float32 has a unit roundoff of 6e-8. Each conv/BN/act layer adds a relative error of about
    // sqrt(fan-in)·6e-8 (fan-in up to ~1152 here: ~2e-6), and roughly 50 such layers compound to a few 1e-5 of
    // the logit scale; ONNX Runtime's kernels (Winograd/GEMM blocking, fused Swish, float exp/log) add their own
    // reordering. TODO measured values.
    private const double ProbabilityTolerance = 1e-5;
    private const double CentredLogProbabilityTolerance = 1e-4;

    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_es")]
    public void Onnx_graph_matches_the_unfolded_double_precision_reference(string id)
    {
        var onnx = fixture.Get(id);
        var stopwatch = Stopwatch.StartNew();
        var reference = new EfficientNetReference(ReferenceArchitecture.Derive(onnx.Variant.Arch), onnx.Weights);
        var outputs = Enumerable.Range(0, OnnxCase.ImageCount).Select(n => reference.Forward(onnx.Image(n))).ToArray();
        output.WriteLine($"{id}: ONNX build+run {onnx.OnnxTime.TotalSeconds:F1} s, reference {stopwatch.Elapsed.TotalSeconds:F1} s for {OnnxCase.ImageCount} images");

        for (var n = 0; n < OnnxCase.ImageCount; n++)
        {
            var probs = onnx.OnnxProbabilities[n];
            var (probabilityDiff, logDiff, logitSpread) = Differences(probs, outputs[n]);
            output.WriteLine($"{id} image {n}: max |Δp| {probabilityDiff:E2}, max |Δ centred log p| {logDiff:E2}, "
                + $"logit range {logitSpread:F2}, top-1 p {probs.Max():F4}");

            Assert.Equal(TopFive(outputs[n].Probabilities.Select(p => (float)p).ToArray()), TopFive(probs));
            Assert.True(probabilityDiff < ProbabilityTolerance, $"image {n}: max |Δp| {probabilityDiff:E2}");
            Assert.True(logDiff < CentredLogProbabilityTolerance, $"image {n}: max |Δ centred log p| {logDiff:E2}");
        }
    }

    [Fact]
    public void Reference_block_list_agrees_with_ArchSpec_for_every_arch()
    {
        foreach (var name in ReferenceArchitecture.Names)
        {
            var mine = ReferenceArchitecture.Derive(name);
            var product = ArchSpec.Get(name);
            Assert.Equal(product.Resolution, mine.Resolution);
            Assert.Equal(product.StemChannels, mine.Stem);
            Assert.Equal(product.HeadChannels, mine.Head);
            Assert.Equal(
                product.Blocks.Select(b => (b.Type.ToString(), b.Module, b.IndexInModule, b.Kernel, b.Stride, b.InChannels,
                    b.MidChannels, b.OutChannels, b.SqueezeChannels, b.HasResidual, b.InputSize)),
                mine.Blocks.Select(b => (b.Kind.ToString(), b.Module, b.Index, b.Kernel, b.Stride, b.In, b.Mid, b.Out,
                    b.Squeeze, b.Residual, b.InputSize)));
            var expected = mine.ParameterShapes();
            var actual = product.ParameterShapes();
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.All(actual, p => Assert.Equal(expected[p.Key], p.Shape));
        }
    }

    private static (double Probability, double CentredLog, double LogitSpread) Differences(float[] onnxProbs, ReferenceOutput reference)
    {
        Assert.All(onnxProbs, p => Assert.True(p > 0 && float.IsFinite(p), $"ONNX probability {p} has no logarithm"));
        // log p = logit − logsumexp(logits): centring both removes the constant and compares logits directly.
        var onnxLog = onnxProbs.Select(p => Math.Log(p)).ToArray();
        var onnxMean = onnxLog.Average();
        var logitMean = reference.Logits.Average();
        var probability = 0.0;
        var centredLog = 0.0;
        for (var c = 0; c < onnxProbs.Length; c++)
        {
            probability = Math.Max(probability, Math.Abs(onnxProbs[c] - reference.Probabilities[c]));
            centredLog = Math.Max(centredLog, Math.Abs((onnxLog[c] - onnxMean) - (reference.Logits[c] - logitMean)));
        }

        return (probability, centredLog, reference.Logits.Max() - reference.Logits.Min());
    }

    private static int[] TopFive(float[] probs) =>
        [.. probs.Select((p, c) => (p, c)).OrderByDescending(t => t.p).ThenBy(t => t.c).Take(5).Select(t => t.c)];
}
