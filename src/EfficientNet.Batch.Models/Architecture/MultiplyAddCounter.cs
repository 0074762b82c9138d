namespace EfficientNet.Batch.Models.Architecture;

/// <summary>Counts conv + fc multiply-adds (spec §2 "MACs" column); biases, BN, activations and pooling excluded.</summary>
internal static class MultiplyAddCounter
{
    public static long Count(ArchSpec arch)
    {
        var stemSize = arch.StemOutputSize;
        var total = Conv(stemSize, arch.StemChannels, ArchSpec.InputChannels, ArchSpec.StemKernel);

        foreach (var block in arch.Blocks)
        {
            if (block.Type == BlockType.EdgeResidual)
            {
                // 0.x/TF placement: the k×k conv runs at full input size, the 1x1 conv applies the stride.
                total += Conv(block.InputSize, block.MidChannels, block.InChannels, block.Kernel);
                total += Conv(block.OutputSize, block.OutChannels, block.MidChannels, 1);
                continue;
            }

            if (block.HasExpandConv)
            {
                total += Conv(block.InputSize, block.MidChannels, block.InChannels, 1);
            }

            total += Conv(block.OutputSize, block.MidChannels, 1, block.Kernel);
            if (block.HasSqueezeExcitation)
            {
                total += 2L * block.MidChannels * block.SqueezeChannels;
            }

            total += Conv(block.OutputSize, block.OutChannels, block.MidChannels, 1);
        }

        total += Conv(arch.FinalFeatureSize, arch.HeadChannels, arch.LastBlockChannels, 1);
        total += (long)arch.HeadChannels * arch.ClassCount;
        return total;
    }

    private static long Conv(int outputSize, int outChannels, int inPerGroup, int kernel) =>
        (long)outputSize * outputSize * outChannels * inPerGroup * kernel * kernel;
}
