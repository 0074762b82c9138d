namespace EfficientNet.Batch.Models.Architecture;

/// <summary>The mmcls checkpoint key layout of spec §4, derived from the same block list the ONNX builder uses.</summary>
internal static class CheckpointLayout
{
    public static IReadOnlyList<ParameterShape> Describe(ArchSpec arch)
    {
        var shapes = new List<ParameterShape>();
        AddConvBn(shapes, "backbone.layers.0", arch.StemChannels, ArchSpec.InputChannels, ArchSpec.StemKernel, ArchSpec.StemKernel);

        foreach (var block in arch.Blocks)
        {
            var p = block.KeyPrefix;
            if (block.Type == BlockType.EdgeResidual)
            {
                AddConvBn(shapes, $"{p}.conv1", block.MidChannels, block.InChannels, block.Kernel, block.Kernel);
                AddConvBn(shapes, $"{p}.conv2", block.OutChannels, block.MidChannels, 1, 1);
                continue;
            }

            if (block.HasExpandConv)
            {
                AddConvBn(shapes, $"{p}.expand_conv", block.MidChannels, block.InChannels, 1, 1);
            }

            AddConvBn(shapes, $"{p}.depthwise_conv", block.MidChannels, 1, block.Kernel, block.Kernel);
            if (block.HasSqueezeExcitation)
            {
                shapes.Add(new($"{p}.se.conv1.conv.weight", [block.SqueezeChannels, block.MidChannels, 1, 1], false));
                shapes.Add(new($"{p}.se.conv1.conv.bias", [block.SqueezeChannels], false));
                shapes.Add(new($"{p}.se.conv2.conv.weight", [block.MidChannels, block.SqueezeChannels, 1, 1], false));
                shapes.Add(new($"{p}.se.conv2.conv.bias", [block.MidChannels], false));
            }

            AddConvBn(shapes, $"{p}.linear_conv", block.OutChannels, block.MidChannels, 1, 1);
        }

        AddConvBn(shapes, "backbone.layers.6", arch.HeadChannels, arch.LastBlockChannels, 1, 1);
        shapes.Add(new("head.fc.weight", [arch.ClassCount, arch.HeadChannels], false));
        shapes.Add(new("head.fc.bias", [arch.ClassCount], false));
        return shapes;
    }

    private static void AddConvBn(List<ParameterShape> shapes, string prefix, int outChannels, int inPerGroup, int kh, int kw)
    {
        shapes.Add(new($"{prefix}.conv.weight", [outChannels, inPerGroup, kh, kw], false));
        shapes.Add(new($"{prefix}.bn.weight", [outChannels], false));
        shapes.Add(new($"{prefix}.bn.bias", [outChannels], false));
        shapes.Add(new($"{prefix}.bn.running_mean", [outChannels], true));
        shapes.Add(new($"{prefix}.bn.running_var", [outChannels], true));
    }
}
