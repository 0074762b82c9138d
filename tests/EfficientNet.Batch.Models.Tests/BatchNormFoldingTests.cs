using EfficientNet.Batch.Models.Onnx;

namespace EfficientNet.Batch.Models.Tests;

public sealed class BatchNormFoldingTests
{
    [Fact]
    public void Folded_conv_equals_conv_followed_by_batch_norm()
    {
        // Two output channels, one input channel, 1x3 kernel, over a 1x5 row (valid positions 0..2).
        float[] weight = [0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f];
        float[] gamma = [1.2f, 0.8f];
        float[] beta = [0.1f, -0.3f];
        float[] mean = [0.4f, -0.2f];
        float[] variance = [0.9f, 2.5f];
        float[] row = [1.0f, -2.0f, 0.5f, 3.0f, -1.5f];

        var (folded, bias) = BatchNormFolding.Fold(weight, gamma, beta, mean, variance);

        for (var c = 0; c < 2; c++)
        {
            for (var x = 0; x < 3; x++)
            {
                double conv = 0, foldedConv = bias[c];
                for (var k = 0; k < 3; k++)
                {
                    conv += weight[(c * 3) + k] * row[x + k];
                    foldedConv += folded[(c * 3) + k] * row[x + k];
                }

                var batchNorm = (gamma[c] * (conv - mean[c]) / Math.Sqrt(variance[c] + 1e-3)) + beta[c];
                Assert.Equal(batchNorm, foldedConv, 1e-5);
            }
        }
    }

    [Fact]
    public void Folding_uses_the_tf_epsilon_of_one_thousandth()
    {
        var (folded, bias) = BatchNormFolding.Fold([1f], [1f], [0f], [0f], [0f]);

        Assert.Equal(1 / Math.Sqrt(1e-3), folded[0], 1e-3);
        Assert.Equal(0f, bias[0]);
    }
}
