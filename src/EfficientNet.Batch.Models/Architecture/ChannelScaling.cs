namespace EfficientNet.Batch.Models.Architecture;

/// <summary>The width and depth scaling rules of spec §1.2, evaluated in float64 like the Python reference.</summary>
public static class ChannelScaling
{
    public const int Divisor = 8;

    /// <summary>Rounds <paramref name="value"/> to a multiple of 8 (at least 8), never losing more than 10 %.</summary>
    public static int MakeDivisible(double value, int divisor = Divisor)
    {
        var rounded = Math.Max(divisor, (int)Math.Floor((value + (divisor / 2.0)) / divisor) * divisor);
        if (rounded < 0.9 * value)
        {
            rounded += divisor;
        }

        return rounded;
    }

    /// <summary>Scales a channel count by the width coefficient.</summary>
    public static int ScaleWidth(int channels, double widthCoefficient) => MakeDivisible(channels * widthCoefficient);

    /// <summary>Scales a group's repeat count by the depth coefficient: ⌈d·n⌉.</summary>
    public static int ScaleDepth(int repeats, double depthCoefficient) => (int)Math.Ceiling(depthCoefficient * repeats);
}
