using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>Appends nodes and float32 initializers to an ONNX graph with unique value names.</summary>
internal sealed class OnnxGraphWriter(GraphProto graph)
{
    private int _valueCounter;

    public string AddInitializer(string name, int[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ToLittleEndian(values) };
        tensor.Dims.AddRange(dims.Select(d => (long)d));
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node with one output, named after the node, and returns that output name.</summary>
    public string AddNode(string opType, string nodeName, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var output = $"{nodeName}#{_valueCounter++}";
        var node = new NodeProto { OpType = opType, Name = $"{nodeName}:{opType}:{_valueCounter}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>Renames the output of the last node, for the graph's declared output.</summary>
    public void RenameLastOutput(string name) => graph.Node[^1].Output[0] = name;

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static ValueInfoProto FloatTensor(string name, params object[] dims)
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
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>ONNX raw_data is little-endian regardless of the host.</summary>
    private static ByteString ToLittleEndian(float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            return ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        }

        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return UnsafeByteOperations.UnsafeWrap(bytes);
    }
}
