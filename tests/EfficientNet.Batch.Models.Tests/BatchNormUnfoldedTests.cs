using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace EfficientNet.Batch.Models.Tests;

/// <summary><see cref="OnnxBuildOptions.FoldBatchNorm"/> = false: the same network with explicit BatchNormalization nodes.</summary>
public sealed class BatchNormUnfoldedTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> NoMetadata = [];
    private static readonly OnnxBuildOptions Unfolded = new() { FoldBatchNorm = false };

    /// <summary>Measured over 2 images × 1000 classes (probabilities ~1e-3): largest |Δp| b0 3.5e-10, es 4.7e-9;
    /// largest relative Δp b0 3.5e-7, es 1.3e-6, the same with ORT_ENABLE_ALL and ORT_DISABLE_ALL. That is float32
    /// rounding: the folded weights are scaled in float64 and rounded once, the unfolded graph rounds after the conv
    /// and again in the BN (or in ORT's own float32 fusion). The bounds leave 20× / 8× headroom for other CPUs'
    /// kernels; a wrong epsilon (1e-5 for 1e-3) measured |Δp| 1e-5..1.6e-4 and relative 9e-3..3e-2.</summary>
    private const double ProbabilityTolerance = 1e-7;

    private const double RelativeTolerance = 1e-5;

    [Theory]
    [InlineData("efficientnet_b0", 49)]
    [InlineData("efficientnet_es", 49)]
    public void Unfolded_graph_has_one_batch_norm_node_per_bn_layer_and_checkpoint_named_initializers(string id, int batchNormLayers)
    {
        var variant = ModelCatalogue.Get(id);
        var arch = variant.Architecture;
        var model = EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(arch, 1), NoMetadata, Unfolded);

        var batchNorms = model.Graph.Node.Where(n => n.OpType == "BatchNormalization").ToList();
        Assert.Equal(batchNormLayers, batchNorms.Count);
        Assert.Equal(batchNormLayers, arch.ParameterShapes().Count(s => s.Key.EndsWith(".bn.running_var", StringComparison.Ordinal)));
        Assert.All(batchNorms, n => Assert.Equal(1e-3f, Assert.Single(n.Attribute, a => a.Name == "epsilon").F));
        Assert.All(batchNorms, n => Assert.EndsWith(".bn.running_var", n.Input[4], StringComparison.Ordinal));
        // Nothing folded, nothing added: the initializers are exactly the checkpoint tensors, under their keys.
        Assert.Equal(arch.ParameterShapes().Select(s => s.Key).Order(StringComparer.Ordinal), model.Graph.Initializer.Select(t => t.Name).Order(StringComparer.Ordinal));
        // ParameterCount is PyTorch's (trainable only); the running statistics are initializers here too.
        Assert.Equal(arch.ParameterShapes().Sum(s => (long)s.ElementCount), ParameterCounter.CountInitializerElements(model));
        // Every conv followed by a BN has no bias of its own.
        var batchNormInputs = batchNorms.Select(n => n.Input[0]).ToHashSet(StringComparer.Ordinal);
        Assert.All(model.Graph.Node.Where(n => n.OpType == "Conv" && batchNormInputs.Contains(n.Output[0])), n => Assert.Equal(2, n.Input.Count));
    }

    [Fact]
    public void Default_options_still_fold()
    {
        var variant = ModelCatalogue.Get("efficientnet_b0");
        var model = EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(variant.Architecture, 1), NoMetadata, new OnnxBuildOptions());

        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "BatchNormalization");
    }

    [Theory]
    [InlineData("efficientnet_b0", GraphOptimizationLevel.ORT_ENABLE_ALL)]
    [InlineData("efficientnet_b0", GraphOptimizationLevel.ORT_DISABLE_ALL)]
    [InlineData("efficientnet_es", GraphOptimizationLevel.ORT_ENABLE_ALL)]
    [InlineData("efficientnet_es", GraphOptimizationLevel.ORT_DISABLE_ALL)]
    public void Folded_and_unfolded_graphs_give_the_same_probabilities(string id, GraphOptimizationLevel level)
    {
        var variant = ModelCatalogue.Get(id);
        var weights = RandomWeights.Generate(variant.Architecture, 5);
        var input = OnnxRuntimeTests.TwoImages(variant.Resolution);

        var folded = Run(EfficientNetOnnxBuilder.Build(variant, weights, NoMetadata), input, level);
        var unfolded = Run(EfficientNetOnnxBuilder.Build(variant, weights, NoMetadata, Unfolded), input, level);

        var maxAbs = folded.Zip(unfolded, (a, b) => Math.Abs((double)a - b)).Max();
        var maxRel = folded.Zip(unfolded, (a, b) => Math.Abs((double)a - b) / Math.Max(a, 1e-12)).Max();
        output.WriteLine($"{id} {level}: max |Δp| = {maxAbs:E2}, max relative {maxRel:E2}, max p = {folded.Max():E2}");
        Assert.True(maxAbs <= ProbabilityTolerance, $"max |Δp| {maxAbs:E2} > {ProbabilityTolerance:E0}");
        Assert.True(maxRel <= RelativeTolerance, $"max relative Δp {maxRel:E2} > {RelativeTolerance:E0}");
        // Not a vacuous comparison: the softmax is not saturated, so the probabilities carry the whole network.
        Assert.True(folded.Max() < 0.99f);
    }

    private static float[] Run(Google.Protobuf.IMessage model, DenseTensor<float> input, GraphOptimizationLevel level)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = level };
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(EfficientNetOnnxBuilder.InputName, input)]);
        return [.. Assert.Single(results).AsTensor<float>()];
    }
}
