using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>
/// Rewrites a float32 classifier graph to compute in float16, for GPUs with fast half-precision convolutions.
/// Graph inputs and outputs stay float32 (a Cast follows each input and precedes each output), so callers and
/// batch buffers are unchanged; every float32 initializer is stored as float16; <c>Softmax</c> keeps running in
/// float32 on a cast of its input, because exp of half-precision logits loses the small probabilities.
/// Only the operators the EfficientNet builder emits are accepted: an imported graph with anything else is refused
/// with the operator named, rather than converted wrongly.
/// </summary>
public static class Float16Conversion
{
    /// <summary>Metadata key the converted model carries, with value <see cref="Float16"/>.</summary>
    public const string PrecisionKey = "precision";

    public const string Float16 = "float16";

    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int HalfType = (int)TensorProto.Types.DataType.Float16;

    /// <summary>Operators whose float16 form computes the same function (ONNX type constraints allow float16 for
    /// every input the builder gives them).</summary>
    private static readonly HashSet<string> HalfOperators = new(StringComparer.Ordinal)
    {
        "Conv", "BatchNormalization", "Relu", "Sigmoid", "Mul", "Add", "GlobalAveragePool", "Flatten", "Gemm",
    };

    /// <summary>Operators kept in float32.</summary>
    private static readonly HashSet<string> FloatOperators = new(StringComparer.Ordinal) { "Softmax" };

    /// <summary>Operators the converter accepts.</summary>
    public static IReadOnlyCollection<string> SupportedOperators => [.. HalfOperators, .. FloatOperators];

    /// <summary>A float16 copy of <paramref name="model"/>; the argument is not changed.</summary>
    /// <exception cref="NotSupportedException">The graph uses an operator, an input type or a custom domain the
    /// conversion does not handle, or is already float16.</exception>
    /// <exception cref="OverflowException">An initializer holds a value beyond float16's range (±65504).</exception>
    public static ModelProto ToFloat16(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.MetadataProps.Any(p => p.Key == PrecisionKey && p.Value == Float16))
        {
            throw new NotSupportedException("The model is already float16.");
        }

        var converted = model.Clone();
        var graph = converted.Graph;
        var unsupported = graph.Node
            .Where(n => n.Domain is not ("" or "ai.onnx") || !(HalfOperators.Contains(n.OpType) || FloatOperators.Contains(n.OpType)))
            .Select(n => string.IsNullOrEmpty(n.Domain) ? n.OpType : $"{n.Domain}.{n.OpType}")
            .Distinct()
            .ToList();
        if (unsupported.Count > 0)
        {
            throw new NotSupportedException(
                $"Graph '{graph.Name}' uses operators float16 conversion does not handle: {string.Join(", ", unsupported)} " +
                $"(it handles {string.Join(", ", SupportedOperators.Order(StringComparer.Ordinal))}).");
        }

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var value in graph.Input.Concat(graph.Output).Where(v => !initializers.Contains(v.Name)))
        {
            if (value.Type?.TensorType?.ElemType != FloatType)
            {
                throw new NotSupportedException($"Graph '{graph.Name}': '{value.Name}' is not a float32 tensor; only float32 inputs and outputs are converted.");
            }
        }

        foreach (var tensor in graph.Initializer.Where(t => t.DataType == FloatType))
        {
            ToHalf(tensor);
        }

        RewriteNodes(graph, initializers);
        // Declared intermediate types would now be wrong; they are optional, so ONNX Runtime infers them again.
        graph.ValueInfo.Clear();
        converted.MetadataProps.Add(new StringStringEntryProto { Key = PrecisionKey, Value = Float16 });
        return converted;
    }

    /// <summary>Rebuilds the node list in its original (topological) order with a Cast wherever a value crosses between
    /// float32 and float16.</summary>
    private static void RewriteNodes(GraphProto graph, HashSet<string> initializers)
    {
        // Values that are float32 at run time: graph inputs and the outputs of float32 operators. Everything else a
        // node produces is float16, and every initializer now is.
        var floatValues = graph.Input.Select(v => v.Name).Where(n => !initializers.Contains(n)).ToHashSet(StringComparer.Ordinal);
        var casts = new Dictionary<(string Value, int To), string>();
        var nodes = new List<NodeProto>(graph.Node.Count + 4);

        string Cast(string value, int to)
        {
            if (!casts.TryGetValue((value, to), out var output))
            {
                output = $"{value}:{(to == HalfType ? "float16" : "float32")}";
                nodes.Add(CastNode(value, output, to));
                casts[(value, to)] = output;
            }

            return output;
        }

        foreach (var node in graph.Node)
        {
            var keepsFloat = FloatOperators.Contains(node.OpType);
            for (var i = 0; i < node.Input.Count; i++)
            {
                var input = node.Input[i];
                if (input.Length == 0)
                {
                    continue;
                }

                var isFloat = floatValues.Contains(input);
                if (keepsFloat && !isFloat)
                {
                    node.Input[i] = Cast(input, FloatType);
                }
                else if (!keepsFloat && isFloat)
                {
                    node.Input[i] = Cast(input, HalfType);
                }
            }

            nodes.Add(node);
            if (keepsFloat)
            {
                floatValues.UnionWith(node.Output);
            }
        }

        // A graph output computed in float16 is renamed at its producer and cast back under its declared name.
        foreach (var output in graph.Output.Select(v => v.Name).Where(n => !floatValues.Contains(n) && !initializers.Contains(n)).ToList())
        {
            var half = $"{output}:float16";
            foreach (var node in nodes)
            {
                for (var i = 0; i < node.Output.Count; i++)
                {
                    if (node.Output[i] == output)
                    {
                        node.Output[i] = half;
                    }
                }

                for (var i = 0; i < node.Input.Count; i++)
                {
                    if (node.Input[i] == output)
                    {
                        node.Input[i] = half;
                    }
                }
            }

            nodes.Add(CastNode(half, output, FloatType));
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
    }

    private static NodeProto CastNode(string input, string output, int to)
    {
        var cast = new NodeProto { OpType = "Cast", Name = $"{output}:Cast" };
        cast.Input.Add(input);
        cast.Output.Add(output);
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = to });
        return cast;
    }

    private static void ToHalf(TensorProto tensor)
    {
        var values = tensor.RawData.Length > 0 ? ReadFloats(tensor.RawData.Span) : [.. tensor.FloatData];
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            var half = (Half)values[i];
            if (Half.IsInfinity(half) && float.IsFinite(values[i]))
            {
                throw new OverflowException($"Initializer '{tensor.Name}'[{i}] = {values[i]} is beyond float16's range (±65504).");
            }

            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), half);
        }

        tensor.FloatData.Clear();
        tensor.DataType = HalfType;
        tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
    }

    /// <summary>ONNX raw_data is little-endian regardless of the host.</summary>
    private static float[] ReadFloats(ReadOnlySpan<byte> raw)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, float>(raw).ToArray();
        }

        var values = new float[raw.Length / sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
        }

        return values;
    }
}
