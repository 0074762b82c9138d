namespace EfficientNet.Batch.Models.Weights;

/// <summary>SplitMix64 (Steele, Lea &amp; Flood 2014; the seeder of xoshiro). Implemented here, with only integer
/// and IEEE add/multiply arithmetic, so generated weights stay bit-identical across .NET versions and platforms,
/// which <see cref="Random"/> does not promise.</summary>
public sealed class SplitMix64(ulong seed)
{
    private const double TwoPowMinus53 = 1.0 / (1UL << 53);
    private static readonly double Sqrt3 = Math.Sqrt(3.0); // sqrt is correctly rounded by IEEE 754, so exact everywhere

    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextUniform() => (NextUInt64() >> 11) * TwoPowMinus53;

    /// <summary>Approximately standard normal (mean 0, variance 1, bounded by ±2√3): a scaled Irwin–Hall sum of four
    /// uniforms. Avoids log/cos, whose last bits may differ between runtimes.</summary>
    public double NextNormalish() => (NextUniform() + NextUniform() + NextUniform() + NextUniform() - 2.0) * Sqrt3;
}
