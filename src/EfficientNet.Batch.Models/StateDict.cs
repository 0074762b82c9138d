namespace EfficientNet.Batch.Models;

/// <summary>A dense float32 tensor in row-major (C) order.</summary>
public sealed class TensorData
{
    public TensorData(int[] shape, float[] data)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(',', shape)}] holds {count} values, data has {data.Length}.");
        }

        Shape = shape;
        Data = data;
    }

    public int[] Shape { get; }

    public float[] Data { get; }

    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>Parameters keyed by their mmcls checkpoint names (spec §4), e.g.
/// <c>backbone.layers.1.0.depthwise_conv.conv.weight</c>. BN entries include running statistics.</summary>
public sealed class StateDict : Dictionary<string, TensorData>
{
    public StateDict() : base(StringComparer.Ordinal)
    {
    }
}
