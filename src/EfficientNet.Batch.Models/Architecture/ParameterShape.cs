namespace EfficientNet.Batch.Models.Architecture;

/// <summary>One checkpoint tensor: its mmcls key, its shape, and whether it is a BN running statistic
/// (present in the checkpoint but not a learnable parameter).</summary>
public sealed record ParameterShape(string Key, int[] Shape, bool IsRunningStatistic)
{
    public long ElementCount => Shape.Aggregate(1L, (count, d) => count * d);

    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
