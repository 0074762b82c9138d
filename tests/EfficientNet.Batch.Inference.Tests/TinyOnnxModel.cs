using EfficientNet.Batch.Models.Onnx;
using Google.Protobuf;

namespace EfficientNet.Batch.Inference.Tests;

/// <summary>
/// A hand-checkable classifier with the mmcls export contract: input [N, 3, R, R] → GlobalAveragePool → Flatten
/// → Gemm (3 → classes) → Softmax named "probs". Stands in for real EfficientNet graphs in session tests.
/// </summary>
internal sealed class TinyOnnxModel
{
    private const int FloatType = 1; // TensorProto.DataType.FLOAT

    public TinyOnnxModel(int resolution = 4, int classCount = 5, string inputName = ModelSession.InputName)
    {
        Resolution = resolution;
        ClassCount = classCount;
        InputName = inputName;
        Weights = Enumerable.Range(0, 3 * classCount).Select(i => ((i * 7) % 11 / 10f) - 0.5f).ToArray();
        Bias = Enumerable.Range(0, classCount).Select(i => i * 0.1f).ToArray();
    }

    public int Resolution { get; }

    public int ClassCount { get; }

    public string InputName { get; }

    /// <summary>Gemm weight [3, classes], row-major.</summary>
    public float[] Weights { get; }

    public float[] Bias { get; }

    public string WriteTo(string directory)
    {
        var path = Path.Combine(directory, $"tiny-{Resolution}-{ClassCount}-{InputName}.onnx");
        File.WriteAllBytes(path, Build().ToByteArray());
        return path;
    }

    /// <summary>The probabilities the graph must produce for one CHW image, computed in double.</summary>
    public double[] Expected(ReadOnlySpan<float> imageChw)
    {
        var plane = Resolution * Resolution;
        var means = new double[3];
        for (var channel = 0; channel < 3; channel++)
        {
            double sum = 0;
            foreach (var value in imageChw.Slice(channel * plane, plane))
            {
                sum += value;
            }

            means[channel] = sum / plane;
        }

        var logits = new double[ClassCount];
        for (var k = 0; k < ClassCount; k++)
        {
            logits[k] = Bias[k] + Enumerable.Range(0, 3).Sum(c => means[c] * Weights[(c * ClassCount) + k]);
        }

        var max = logits.Max();
        var exponentials = logits.Select(l => Math.Exp(l - max)).ToArray();
        var total = exponentials.Sum();
        return exponentials.Select(e => e / total).ToArray();
    }

    private ModelProto Build()
    {
        var graph = new GraphProto { Name = "tiny-classifier" };
        graph.Input.Add(Value(InputName, ["N", 3, Resolution, Resolution]));
        graph.Output.Add(Value(ModelSession.OutputName, ["N", ClassCount]));
        graph.Initializer.Add(Tensor("fc.weight", [3, ClassCount], Weights));
        graph.Initializer.Add(Tensor("fc.bias", [ClassCount], Bias));
        graph.Node.Add(Node("GlobalAveragePool", [InputName], ["pooled"]));
        var flatten = Node("Flatten", ["pooled"], ["flat"]);
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(flatten);
        graph.Node.Add(Node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"]));
        var softmax = Node("Softmax", ["logits"], [ModelSession.OutputName]);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(softmax);

        var model = new ModelProto { IrVersion = 8, ProducerName = "EfficientNet.Batch.Inference.Tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    private static NodeProto Node(string operatorType, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = operatorType, Name = operatorType };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    private static TensorProto Tensor(string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = FloatType };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    // Each dimension is a fixed size (int) or a symbolic name (string), e.g. the batch "N".
    private static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } },
        };
    }
}
