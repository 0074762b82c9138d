using System.Diagnostics;
using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Onnx;
using Xunit.Abstractions;

namespace EfficientNet.Batch.Models.Tests.Reference;

/// <summary>Numerical proof without pretrained weights: the product's ONNX graph (BN folded, float32, ONNX Runtime
/// CPU) against an independent double-precision reference written from the spec, on random weights.</summary>
public sealed class ReferenceComparisonTests(ReferenceComparisonFixture fixture, ITestOutputHelper output)
    : IClassFixture<ReferenceComparisonFixture>
{
    // Tolerances, about 10x the worst difference measured (b0 1.7e-6 centred log p, 4.1e-9 in p; es 7.1e-7 and
    // 2.3e-9). float32 has a unit roundoff of 6e-8; a conv sums up to ~1152 products, so each layer's relative
    // error is a few 1e-7 to 1e-6, and the ~50 conv+BN+act layers with residual adds compound that to a few 1e-6
    // of the logits (which span about 2 here). ONNX Runtime's own summation order (GEMM blocking, fused Swish, BN
    // folded into the weights in float32, float exp/log in the softmax) differs by CPU and version, hence the 10x.
    // The centred log-probabilities are the sensitive check: log p − mean(log p) = logit − mean(logit), so they
    // compare the logits themselves. The probabilities of random weights are nearly uniform (top-1 ≈ 0.003), so
    // their absolute tolerance is tiny too. Sensitivity, measured on b0: one BN channel's running_var off by 1 %
    // moves the centred log p by 3.6e-4 (18x the tolerance); PyTorch's default BN eps 1e-5 instead of 1e-3 by 4.5e-2.
    private const double ProbabilityTolerance = 5e-8;
    private const double CentredLogProbabilityTolerance = 2e-5;

    // Float16 tolerances, about 5x the worst difference measured (below): float16's unit roundoff is 4.9e-4, and
    // rounding every weight and activation moves the centred log-probabilities by 1e-3–2e-3 here. The wrong BN
    // epsilon (4.5e-2) still fails them; a 1 % error in one running variance (3.6e-4) would hide under float16 noise.
    private const double Float16ProbabilityTolerance = 3e-5;
    private const double Float16CentredLogProbabilityTolerance = 1e-2;

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
                + $"logit range {logitSpread:F2}, "
                + $"smallest gap in the top six logits {SmallestTopSixGap(outputs[n].Logits):E2}, top-1 p {probs.Max():F4}");

            // The top-5 order is only a fair check if the reference's top six logits are further apart than the
            // tolerance; the fixed images and seed are chosen so that they are.
            var topGap = SmallestTopSixGap(outputs[n].Logits);
            Assert.True(topGap > 10 * CentredLogProbabilityTolerance, $"image {n}: top logits only {topGap:E2} apart");
            Assert.Equal(TopFive(outputs[n].Probabilities), TopFive(probs.Select(p => (double)p).ToArray()));
            Assert.True(probabilityDiff < ProbabilityTolerance, $"image {n}: max |Δp| {probabilityDiff:E2}");
            Assert.True(logDiff < CentredLogProbabilityTolerance, $"image {n}: max |Δ centred log p| {logDiff:E2}");
        }
    }

    /// <summary>The accuracy effect of <c>Inference:Precision=Float16</c>, measured two ways against the exact
    /// reference: the converted graph run by ONNX Runtime's CPU provider (float16 weights; that provider has no
    /// float16 kernels for most of these operators and computes them in float32 between the casts it inserts), and
    /// an emulation of a GPU run in which every stored activation is rounded to float16 as well. Measured: max
    /// |Δ centred log p| 0.95e-3–1.8e-3 for both (float32: 0.5e-6–1.7e-6), max |Δp| 1.4e-6–5.2e-6, the top five
    /// classes unchanged for all four images, whose top six logits are 5.7e-3 or more apart.</summary>
    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_es")]
    public void Float16_stays_within_its_measured_distance_of_the_reference(string id)
    {
        var onnx = fixture.Get(id);
        var arch = ReferenceArchitecture.Derive(onnx.Variant.Arch);
        var exact = new EfficientNetReference(arch, onnx.Weights);
        var half = new EfficientNetReference(arch, onnx.Weights, halfStorage: true);
        var graph = ReferenceComparisonFixture.RunGraph(Float16Conversion.ToFloat16(onnx.Model), onnx.Variant, onnx.Images);

        for (var n = 0; n < OnnxCase.ImageCount; n++)
        {
            var reference = exact.Forward(onnx.Image(n));
            var emulated = half.Forward(onnx.Image(n));
            var (graphP, graphLog, _) = Differences(graph[n], reference);
            var (emulatedP, emulatedLog, _) = Differences([.. emulated.Probabilities.Select(p => (float)p)], reference);
            output.WriteLine($"{id} image {n}: float16 graph on CPU max |Δp| {graphP:E2}, max |Δ centred log p| {graphLog:E2}; "
                + $"emulated float16 GPU run {emulatedP:E2}, {emulatedLog:E2}; smallest top-six gap {SmallestTopSixGap(reference.Logits):E2}");

            Assert.Equal(TopFive(reference.Probabilities), TopFive([.. graph[n].Select(p => (double)p)]));
            Assert.Equal(TopFive(reference.Probabilities), TopFive(emulated.Probabilities));
            Assert.True(graphP < Float16ProbabilityTolerance, $"float16 graph, image {n}: max |Δp| {graphP:E2}");
            Assert.True(graphLog < Float16CentredLogProbabilityTolerance, $"float16 graph, image {n}: max |Δ centred log p| {graphLog:E2}");
            Assert.True(emulatedP < Float16ProbabilityTolerance, $"emulated float16, image {n}: max |Δp| {emulatedP:E2}");
            Assert.True(emulatedLog < Float16CentredLogProbabilityTolerance, $"emulated float16, image {n}: max |Δ centred log p| {emulatedLog:E2}");
        }
    }

    /// <summary>The comparison above must be able to fail: give the reference alone one BN channel whose running
    /// variance is 1 % off (as a wrong index or a stale statistic in BN folding would) and it must disagree.</summary>
    [Fact]
    public void Comparison_detects_one_running_variance_off_by_one_percent()
    {
        const string key = "backbone.layers.3.0.depthwise_conv.bn.running_var";
        var onnx = fixture.Get("efficientnet_b0");
        var weights = new StateDict();
        foreach (var (k, tensor) in onnx.Weights)
        {
            weights[k] = tensor;
        }

        var variance = (float[])weights[key].Data.Clone();
        variance[5] *= 1.01f;
        weights[key] = new TensorData(weights[key].Shape, variance);

        var perturbed = new EfficientNetReference(ReferenceArchitecture.Derive("b0"), weights).Forward(onnx.Image(0));

        var (probabilityDiff, logDiff, _) = Differences(onnx.OnnxProbabilities[0], perturbed);
        output.WriteLine($"{key}[5] x1.01: max |Δp| {probabilityDiff:E2}, max |Δ centred log p| {logDiff:E2}");
        Assert.True(probabilityDiff > ProbabilityTolerance, $"max |Δp| {probabilityDiff:E2} within tolerance");
        Assert.True(logDiff > CentredLogProbabilityTolerance, $"max |Δ centred log p| {logDiff:E2} within tolerance");
    }

    /// <summary>Folding with PyTorch's default BN eps (1e-5) instead of mmcls' 1e-3 is the classic slip; the
    /// comparison must see it.</summary>
    [Fact]
    public void Comparison_detects_the_pytorch_default_batch_norm_epsilon()
    {
        var onnx = fixture.Get("efficientnet_b0");

        var wrongEpsilon = new EfficientNetReference(ReferenceArchitecture.Derive("b0"), onnx.Weights, batchNormEpsilon: 1e-5)
            .Forward(onnx.Image(0));

        var (probabilityDiff, logDiff, _) = Differences(onnx.OnnxProbabilities[0], wrongEpsilon);
        output.WriteLine($"BN eps 1e-5: max |Δp| {probabilityDiff:E2}, max |Δ centred log p| {logDiff:E2}");
        Assert.True(logDiff > CentredLogProbabilityTolerance, $"max |Δ centred log p| {logDiff:E2} within tolerance");
        Assert.True(logDiff > Float16CentredLogProbabilityTolerance, $"max |Δ centred log p| {logDiff:E2} within the float16 tolerance");
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

    private static int[] TopFive(double[] probs) =>
        [.. probs.Select((p, c) => (p, c)).OrderByDescending(t => t.p).ThenBy(t => t.c).Take(5).Select(t => t.c)];

    private static double SmallestTopSixGap(double[] logits)
    {
        var top = logits.OrderDescending().Take(6).ToArray();
        return top.Zip(top.Skip(1), (a, b) => a - b).Min();
    }
}
