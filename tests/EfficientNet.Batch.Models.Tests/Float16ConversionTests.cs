using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EfficientNet.Batch.Models.Tests;

/// <summary><see cref="Float16Conversion"/>: the graph rewrite behind <c>Inference:Precision=Float16</c>. Its accuracy
/// effect is measured against the reference in <c>ReferenceComparisonTests</c>.</summary>
public sealed class Float16ConversionTests
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int HalfType = (int)TensorProto.Types.DataType.Float16;
    private static readonly Dictionary<string, string> NoMetadata = [];

    [Fact]
    public void Every_weight_becomes_float16_while_the_input_output_and_softmax_stay_float32()
    {
        var model = Build("efficientnet_b0");
        var originalBytes = model.CalculateSize();

        var converted = Float16Conversion.ToFloat16(model);

        var graph = converted.Graph;
        Assert.Equal(model.Graph.Initializer.Count, graph.Initializer.Count);
        Assert.All(graph.Initializer, t => Assert.Equal(HalfType, t.DataType));
        Assert.All(graph.Initializer, t => Assert.Equal(2 * t.Dims.Aggregate(1L, (a, d) => a * d), t.RawData.Length));
        Assert.Equal(FloatType, Assert.Single(graph.Input).Type.TensorType.ElemType);
        Assert.Equal(FloatType, Assert.Single(graph.Output).Type.TensorType.ElemType);

        // input → Cast(float16) → … → Gemm → Cast(float32) → Softmax → probs: exactly two casts.
        var casts = graph.Node.Where(n => n.OpType == "Cast").ToList();
        Assert.Equal(2, casts.Count);
        Assert.Same(casts[0], graph.Node[0]);
        Assert.Equal(EfficientNetOnnxBuilder.InputName, casts[0].Input[0]);
        Assert.Equal(HalfType, casts[0].Attribute.Single(a => a.Name == "to").I);
        var softmax = graph.Node[^1];
        Assert.Equal("Softmax", softmax.OpType);
        Assert.Equal(EfficientNetOnnxBuilder.OutputName, softmax.Output[0]);
        Assert.Equal(casts[1].Output[0], softmax.Input[0]);
        Assert.Equal(FloatType, casts[1].Attribute.Single(a => a.Name == "to").I);
        Assert.Contains(converted.MetadataProps, p => p is { Key: Float16Conversion.PrecisionKey, Value: Float16Conversion.Float16 });
        Assert.InRange(converted.CalculateSize(), originalBytes * 0.49, originalBytes * 0.51);

        // The argument is left as it was.
        Assert.All(model.Graph.Initializer, t => Assert.Equal(FloatType, t.DataType));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Cast");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Converted_graph_runs_in_onnx_runtime_with_the_same_ranking(bool foldBatchNorm)
    {
        var model = Build("efficientnet_b0", new OnnxBuildOptions { FoldBatchNorm = foldBatchNorm });
        var input = OnnxRuntimeTests.TwoImages(224);

        var float32 = Run(model, input);
        var float16 = Run(Float16Conversion.ToFloat16(model), input);

        for (var n = 0; n < 2; n++)
        {
            Assert.Equal(1.0, float16[n].Sum(p => (double)p), 1e-4);
            Assert.Equal(TopFive(float32[n]), TopFive(float16[n]));
            // Random weights give nearly uniform probabilities (~1e-3); float16 moves them by a few 1e-6.
            Assert.All(float32[n].Zip(float16[n]), pair => Assert.Equal(pair.First, pair.Second, 5e-5));
            Assert.NotEqual(float32[n], float16[n]);
        }
    }

    [Fact]
    public void An_operator_it_does_not_handle_is_refused_by_name()
    {
        var model = Build("efficientnet_b0");
        model.Graph.Node[3].OpType = "Resize";
        model.Graph.Node[7].OpType = "HardSwish";

        var error = Assert.Throws<NotSupportedException>(() => Float16Conversion.ToFloat16(model));

        Assert.Contains("Resize, HardSwish", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_converted_once_is_not_converted_again()
    {
        var converted = Float16Conversion.ToFloat16(Build("efficientnet_b0"));

        var error = Assert.Throws<NotSupportedException>(() => Float16Conversion.ToFloat16(converted));

        Assert.Contains("already float16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weight_beyond_float16_range_is_refused_with_its_name_and_value()
    {
        var model = Build("efficientnet_b0");
        var tensor = model.Graph.Initializer[5];
        var values = new float[tensor.RawData.Length / sizeof(float)];
        tensor.RawData.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        values[2] = 70000f;
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

        var error = Assert.Throws<OverflowException>(() => Float16Conversion.ToFloat16(model));

        Assert.Contains($"'{tensor.Name}'[2] = 70000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_computed_in_float16_is_cast_back_under_its_declared_name()
    {
        // input → Relu → output, and the same value also feeds a second node: the output is declared float32.
        var graph = new GraphProto { Name = "relu" };
        graph.Input.Add(OnnxGraphWriter.FloatTensor("x", 1, 4));
        graph.Output.Add(OnnxGraphWriter.FloatTensor("y", 1, 4));
        graph.Output.Add(OnnxGraphWriter.FloatTensor("z", 1, 4));
        graph.Node.Add(Node("Relu", "x", "y"));
        graph.Node.Add(Node("Add", "y", "y", "z"));
        var model = new ModelProto { IrVersion = EfficientNetOnnxBuilder.IrVersion, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = EfficientNetOnnxBuilder.OpsetVersion });

        var converted = Float16Conversion.ToFloat16(model);

        var castY = Assert.Single(converted.Graph.Node, n => n.OpType == "Cast" && n.Output[0] == "y");
        Assert.Equal(FloatType, castY.Attribute.Single(a => a.Name == "to").I);
        Assert.Equal(["y:float16", "y:float16"], converted.Graph.Node.Single(n => n.OpType == "Add").Input);
        Assert.Contains(converted.Graph.Node, n => n.OpType == "Cast" && n.Output[0] == "z");
        // Values float16 holds exactly, because the CPU provider may run Relu and Add in float32 between its own casts.
        using var session = new InferenceSession(converted.ToByteArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(new[] { -1f, 0.5f, 2f, 1000f }, [1, 4]))]);
        Assert.Equal([0f, 0.5f, 2f, 1000f], results.Single(r => r.Name == "y").AsTensor<float>().ToArray());
        Assert.Equal([0f, 1f, 4f, 2000f], results.Single(r => r.Name == "z").AsTensor<float>().ToArray());
    }

    private static NodeProto Node(string op, params string[] values)
    {
        var node = new NodeProto { OpType = op, Name = op };
        node.Input.AddRange(values[..^1]);
        node.Output.Add(values[^1]);
        return node;
    }

    private static ModelProto Build(string id, OnnxBuildOptions? options = null)
    {
        var variant = ModelCatalogue.Get(id);
        return EfficientNetOnnxBuilder.Build(variant, RandomWeights.Generate(variant.Architecture, 5), NoMetadata, options);
    }

    private static float[][] Run(ModelProto model, DenseTensor<float> input)
    {
        using var session = new InferenceSession(model.ToByteArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(EfficientNetOnnxBuilder.InputName, input)]);
        var probs = results.Single().AsTensor<float>();
        return [.. Enumerable.Range(0, 2).Select(n => Enumerable.Range(0, 1000).Select(c => probs[n, c]).ToArray())];
    }

    private static int[] TopFive(float[] probs) =>
        [.. probs.Select((p, c) => (p, c)).OrderByDescending(t => t.p).Take(5).Select(t => t.c)];
}
