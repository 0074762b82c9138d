using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests;

public sealed class OnnxGraphTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];

    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_em")]
    public void Graph_has_folded_batch_norm_and_the_expected_initializer_count(string id)
    {
        var variant = ModelCatalogue.Get(id);
        var arch = variant.Architecture;
        var model = EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(arch, 1), NoMetadata);

        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "BatchNormalization");
        // Folding drops γ, β and the running stats of every BN and adds one bias per output channel: net −C per BN.
        var batchNormChannels = arch.ParameterShapes().Where(s => s.Key.EndsWith(".bn.running_var", StringComparison.Ordinal)).Sum(s => s.ElementCount);
        Assert.Equal(arch.ParameterCount - batchNormChannels, ParameterCounter.CountInitializerElements(model));
        Assert.Equal(8, model.IrVersion);
        Assert.Equal(17, Assert.Single(model.OpsetImport).Version);
    }

    [Fact]
    public void Input_and_output_have_a_symbolic_batch_dimension()
    {
        var variant = ModelCatalogue.Get("efficientnet_es");
        var model = EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(variant.Architecture, 1), NoMetadata);

        var input = Assert.Single(model.Graph.Input);
        Assert.Equal("input", input.Name);
        Assert.Equal(["N", "3", "224", "224"], input.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var output = Assert.Single(model.Graph.Output);
        Assert.Equal("probs", output.Name);
        Assert.Equal("Softmax", model.Graph.Node[^1].OpType);
        Assert.Equal("probs", model.Graph.Node[^1].Output[0]);
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Sigmoid"); // ReLU arch, no SE
    }

    [Fact]
    public void Convs_carry_explicit_tf_same_pads_and_depthwise_groups()
    {
        var variant = ModelCatalogue.Get("efficientnet_b0");
        var model = EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(variant.Architecture, 1), NoMetadata);
        long[] Attribute(string node, string name) =>
            [.. model.Graph.Node.Single(n => n.OpType == "Conv" && n.Input[1] == $"{node}.weight").Attribute.Single(a => a.Name == name) is { } a
                ? a.Type == AttributeProto.Types.AttributeType.Ints ? a.Ints : [a.I]
                : []];

        Assert.Equal([0L, 0, 1, 1], Attribute("backbone.layers.0", "pads")); // 224, k3 s2
        Assert.Equal([1L, 1, 2, 2], Attribute("backbone.layers.3.0.depthwise_conv", "pads")); // 56, k5 s2
        Assert.Equal([2L, 2, 2, 2], Attribute("backbone.layers.3.1.depthwise_conv", "pads")); // 28, k5 s1
        Assert.Equal([144L], Attribute("backbone.layers.3.0.depthwise_conv", "group"));
    }

    [Fact]
    public void Metadata_holds_the_variant_and_caller_entries()
    {
        var variant = ModelCatalogue.Get("efficientnet_b0_advprop");
        var model = EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(variant.Architecture, 1),
            new Dictionary<string, string> { ["weights"] = "random seed 1" });
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);

        Assert.Equal("efficientnet_b0_advprop", metadata["id"]);
        Assert.Equal("b0", metadata["arch"]);
        Assert.Equal("224", metadata["resolution"]);
        Assert.Equal("127.5,127.5,127.5", metadata["mean"]);
        Assert.Equal("127.5,127.5,127.5", metadata["std"]);
        Assert.Equal("random seed 1", metadata["weights"]);
    }

    [Fact]
    public void Mismatched_weights_are_reported_all_at_once()
    {
        var variant = ModelCatalogue.Get("efficientnet_b0");
        var weights = RandomWeights.Generate(variant.Architecture, 1);
        weights.Remove("backbone.layers.2.0.expand_conv.bn.running_var");
        weights["head.fc.weight"] = new TensorData([1001, 1280], new float[1001 * 1280]);
        weights["backbone.layers.2.0.expand_conv.bn.num_batches_tracked"] = new TensorData([], [0f]);
        weights["backbone.extra.weight"] = new TensorData([1], [0f]);

        var error = Assert.Throws<CheckpointMismatchException>(() => EfficientNetOnnxBuilder.Build(variant, weights, NoMetadata));

        Assert.Equal(["backbone.layers.2.0.expand_conv.bn.running_var"], error.Missing);
        Assert.Equal(["backbone.extra.weight"], error.Unexpected);
        var misShaped = Assert.Single(error.MisShaped);
        Assert.Equal("head.fc.weight", misShaped.Key);
        Assert.Contains("[1000, 1280]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1001, 1280]", error.Message, StringComparison.Ordinal);
    }
}
