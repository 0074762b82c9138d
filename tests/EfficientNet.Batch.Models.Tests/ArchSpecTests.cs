using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Tests;

public sealed class ArchSpecTests
{
    [Theory]
    [InlineData("b0", 5_288_548L)]
    [InlineData("b1", 7_794_184L)]
    [InlineData("b2", 9_109_994L)]
    [InlineData("b3", 12_233_232L)]
    [InlineData("b4", 19_341_616L)]
    [InlineData("b5", 30_389_784L)]
    [InlineData("b6", 43_040_704L)]
    [InlineData("b7", 66_347_960L)]
    [InlineData("b8", 87_413_142L)]
    [InlineData("es", 5_438_392L)]
    [InlineData("em", 6_899_496L)]
    public void Checkpoint_parameter_count_matches_the_spec_exactly(string arch, long expected) =>
        Assert.Equal(expected, ArchSpec.Get(arch).ParameterCount);

    [Theory]
    [InlineData("b0", 385_814_752L)]
    [InlineData("b1", 686_802_832L)]
    [InlineData("b2", 993_561_872L)]
    [InlineData("b3", 1_827_141_392L)]
    [InlineData("b4", 4_393_771_024L)]
    [InlineData("b5", 10_266_384_752L)]
    [InlineData("b6", 19_067_593_536L)]
    [InlineData("b7", 37_745_884_192L)]
    [InlineData("b8", 62_597_461_568L)]
    [InlineData("es", 2_352_307_840L)]
    [InlineData("em", 3_660_284_288L)]
    public void Multiply_adds_match_the_spec_with_the_tf_edge_residual_stride_placement(string arch, long expected) =>
        Assert.Equal(expected, ArchSpec.Get(arch).MultiplyAdds);

    [Theory]
    [InlineData("b0", 32, "16x1 24x2 40x2 80x3 112x3 192x4 320x1", 1280, 16)]
    [InlineData("b1", 32, "16x2 24x3 40x3 80x4 112x4 192x5 320x2", 1280, 23)]
    [InlineData("b2", 32, "16x2 24x3 48x3 88x4 120x4 208x5 352x2", 1408, 23)]
    [InlineData("b3", 40, "24x2 32x3 48x3 96x5 136x5 232x6 384x2", 1536, 26)]
    [InlineData("b4", 48, "24x2 32x4 56x4 112x6 160x6 272x8 448x2", 1792, 32)]
    [InlineData("b5", 48, "24x3 40x5 64x5 128x7 176x7 304x9 512x3", 2048, 39)]
    [InlineData("b6", 56, "32x3 40x6 72x6 144x8 200x8 344x11 576x3", 2304, 45)]
    [InlineData("b7", 64, "32x4 48x7 80x7 160x10 224x10 384x13 640x4", 2560, 55)]
    [InlineData("b8", 72, "32x4 56x8 88x8 176x11 248x11 424x15 704x4", 2816, 61)]
    [InlineData("es", 32, "24x1 32x2 48x4 96x5 144x4 192x2", 1280, 18)]
    [InlineData("em", 32, "24x2 32x3 48x5 96x6 144x5 192x3", 1280, 24)]
    public void Scaled_channels_and_repeats_match_the_spec_table(string name, int stem, string groups, int head, int blocks)
    {
        var arch = ArchSpec.Get(name);
        // Consecutive blocks with the same output width belong to one group in every arch of the zoo.
        var actualGroups = string.Join(' ', arch.Blocks
            .GroupBy(b => b.OutChannels)
            .Select(g => $"{g.Key}x{g.Count()}"));

        Assert.Equal(stem, arch.StemChannels);
        Assert.Equal(groups, actualGroups);
        Assert.Equal(head, arch.HeadChannels);
        Assert.Equal(blocks, arch.Blocks.Count);
    }

    [Theory]
    [InlineData(11.0, 16)] // nearest multiple 8 would lose more than 10 %
    [InlineData(32 * 1.1, 32)]
    [InlineData(16 * 1.1, 16)]
    [InlineData(1280 * 1.1, 1408)]
    [InlineData(3.0, 8)]
    [InlineData(24 * 1.4, 32)]
    public void Make_divisible_rounds_to_a_multiple_of_eight_without_losing_ten_percent(double value, int expected) =>
        Assert.Equal(expected, ChannelScaling.MakeDivisible(value));

    [Theory]
    [InlineData(224, 3, 2, 0, 1)]
    [InlineData(224, 5, 2, 1, 2)]
    [InlineData(7, 5, 2, 2, 2)]
    [InlineData(28, 5, 1, 2, 2)]
    [InlineData(14, 1, 1, 0, 0)]
    [InlineData(15, 3, 2, 1, 1)]
    public void Same_padding_puts_the_odd_pixel_after(int size, int kernel, int stride, int before, int after) =>
        Assert.Equal(new AxisPadding(before, after), SamePadding.For(size, kernel, stride));

    [Fact]
    public void Module_spatial_sizes_of_b0_halve_from_112_to_7() =>
        Assert.Equal([112, 112, 56, 28, 14, 7, 7], ArchSpec.Get("b0").ModuleOutputSizes);

    [Fact]
    public void Module_spatial_sizes_of_b8_halve_from_336_to_21() =>
        Assert.Equal([336, 336, 168, 84, 42, 21, 21], ArchSpec.Get("b8").ModuleOutputSizes);

    [Fact]
    public void Stride_one_groups_are_appended_to_the_previous_module()
    {
        var b0 = ArchSpec.Get("b0");
        var module4 = b0.Blocks.Where(b => b.Module == 4).ToList();

        Assert.Equal([80, 80, 80, 112, 112, 112], module4.Select(b => b.OutChannels));
        Assert.Equal([0, 1, 2, 3, 4, 5], module4.Select(b => b.IndexInModule));
        Assert.Equal([1, 2, 3, 4, 5], b0.Blocks.Select(b => b.Module).Distinct());
    }

    [Fact]
    public void Squeeze_width_is_a_quarter_of_the_block_input()
    {
        var b0 = ArchSpec.Get("b0");

        Assert.All(b0.Blocks, b => Assert.Equal(b.InChannels / 4, b.SqueezeChannels));
        Assert.Equal(8, b0.Blocks[0].SqueezeChannels);
        Assert.All(ArchSpec.Get("es").Blocks, b => Assert.False(b.HasSqueezeExcitation));
    }

    [Fact]
    public void Em_group_one_repeat_expands_by_four_and_has_no_residual()
    {
        var em = ArchSpec.Get("em");
        var first = em.Blocks[0];
        var repeat = em.Blocks[1];

        Assert.Equal((BlockType.EdgeResidual, 32, 96, 24), (first.Type, first.InChannels, first.MidChannels, first.OutChannels));
        Assert.Equal((BlockType.EdgeResidual, 24, 96, 24, 1), (repeat.Type, repeat.InChannels, repeat.MidChannels, repeat.OutChannels, repeat.Stride));
        Assert.False(repeat.HasResidual);
        Assert.True(em.Blocks[3].HasResidual); // second block of group 2: stride 1, 32 → 32
    }

    [Fact]
    public void Activation_is_swish_for_b_and_relu_for_edge_tpu()
    {
        Assert.Equal(ActivationKind.Swish, ArchSpec.Get("b3").Activation);
        Assert.Equal(ActivationKind.Relu, ArchSpec.Get("es").Activation);
        Assert.Equal(ActivationKind.Relu, ArchSpec.Get("em").Activation);
    }

    [Fact]
    public void Parameter_shapes_follow_the_mmcls_key_layout()
    {
        var shapes = ArchSpec.Get("b0").ParameterShapes().ToDictionary(s => s.Key, s => s.Shape);

        Assert.Equal([32, 3, 3, 3], shapes["backbone.layers.0.conv.weight"]);
        Assert.False(shapes.ContainsKey("backbone.layers.1.0.expand_conv.conv.weight")); // e = 1
        Assert.Equal([32, 1, 3, 3], shapes["backbone.layers.1.0.depthwise_conv.conv.weight"]);
        Assert.Equal([8, 32, 1, 1], shapes["backbone.layers.1.0.se.conv1.conv.weight"]);
        Assert.Equal([32], shapes["backbone.layers.1.0.se.conv2.conv.bias"]);
        Assert.Equal([96, 16, 1, 1], shapes["backbone.layers.2.0.expand_conv.conv.weight"]);
        Assert.Equal([672, 112, 1, 1], shapes["backbone.layers.4.4.expand_conv.conv.weight"]);
        Assert.Equal([1280, 320, 1, 1], shapes["backbone.layers.6.conv.weight"]);
        Assert.Equal([1280], shapes["backbone.layers.6.bn.running_var"]);
        Assert.Equal([1000, 1280], shapes["head.fc.weight"]);
        Assert.Equal("head.fc.bias", ArchSpec.Get("b0").ParameterShapes()[^1].Key);

        var es = ArchSpec.Get("es").ParameterShapes().ToDictionary(s => s.Key, s => s.Shape);
        Assert.Equal([96, 32, 3, 3], es["backbone.layers.1.0.conv1.conv.weight"]);
        Assert.Equal([24, 96, 1, 1], es["backbone.layers.1.0.conv2.conv.weight"]);
    }

    [Theory]
    [InlineData("b0", 49)]
    [InlineData("b1", 69)]
    [InlineData("b3", 78)]
    [InlineData("b7", 163)]
    [InlineData("b8", 181)]
    [InlineData("es", 49)]
    [InlineData("em", 64)]
    public void Batch_norm_layer_count_matches_the_spec(string arch, int expected) =>
        Assert.Equal(expected, ArchSpec.Get(arch).ParameterShapes().Count(s => s.Key.EndsWith(".bn.running_var", StringComparison.Ordinal)));
}
