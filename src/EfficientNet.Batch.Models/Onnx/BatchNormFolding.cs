namespace EfficientNet.Batch.Models.Onnx;

/// <summary>Folds an inference-mode BatchNorm into the preceding bias-free conv:
/// BN(conv(x)) = γ·(W∗x − μ)/√(σ²+ε) + β = (s·W)∗x + (β − s·μ) with s = γ/√(σ²+ε).</summary>
public static class BatchNormFolding
{
    /// <summary>mmcls EfficientNet BN epsilon (TF's 1e-3, not PyTorch's 1e-5).</summary>
    public const double Epsilon = 1e-3;

    /// <param name="convWeight">Conv weight [out, in/groups, kh, kw] in row-major order.</param>
    /// <returns>The scaled weight (same layout) and the new per-output-channel bias.</returns>
    public static (float[] Weight, float[] Bias) Fold(
        ReadOnlySpan<float> convWeight,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVar,
        double epsilon = Epsilon)
    {
        var outChannels = gamma.Length;
        if (beta.Length != outChannels || runningMean.Length != outChannels || runningVar.Length != outChannels
            || convWeight.Length % outChannels != 0)
        {
            throw new ArgumentException("BatchNorm vectors must have one value per conv output channel.");
        }

        var perChannel = convWeight.Length / outChannels;
        var weight = new float[convWeight.Length];
        var bias = new float[outChannels];
        for (var c = 0; c < outChannels; c++)
        {
            // float64 so the folded weights lose no precision beyond the final rounding to float32.
            var scale = gamma[c] / Math.Sqrt(runningVar[c] + epsilon);
            bias[c] = (float)(beta[c] - (scale * runningMean[c]));
            var source = convWeight.Slice(c * perChannel, perChannel);
            var target = weight.AsSpan(c * perChannel, perChannel);
            for (var i = 0; i < perChannel; i++)
            {
                target[i] = (float)(source[i] * scale);
            }
        }

        return (weight, bias);
    }
}
