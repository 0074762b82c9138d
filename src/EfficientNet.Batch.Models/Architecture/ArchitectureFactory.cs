namespace EfficientNet.Batch.Models.Architecture;

/// <summary>Expands the base tables of spec §1.1 with the scaling coefficients of §1.2.</summary>
internal static class ArchitectureFactory
{
    private const int BaseStemChannels = 32;
    private const int BaseHeadChannels = 1280;

    /// <param name="ExpandRatio">mid = in·e.</param>
    /// <param name="RepeatExpandRatio">Expand ratio of the extra repeats when it differs (em group 1: 4, with no residual).</param>
    private sealed record GroupTemplate(
        BlockType Type, int Kernel, int Stride, int ExpandRatio, int OutChannels, int Repeats, int? RepeatExpandRatio = null);

    private static readonly GroupTemplate[] StandardGroups =
    [
        new(BlockType.InvertedResidual, 3, 1, 1, 16, 1),
        new(BlockType.InvertedResidual, 3, 2, 6, 24, 2),
        new(BlockType.InvertedResidual, 5, 2, 6, 40, 2),
        new(BlockType.InvertedResidual, 3, 2, 6, 80, 3),
        new(BlockType.InvertedResidual, 5, 1, 6, 112, 3),
        new(BlockType.InvertedResidual, 5, 2, 6, 192, 4),
        new(BlockType.InvertedResidual, 3, 1, 6, 320, 1),
    ];

    private static readonly GroupTemplate[] EdgeTpuGroups =
    [
        new(BlockType.EdgeResidual, 3, 1, 3, 24, 1, RepeatExpandRatio: 4),
        new(BlockType.EdgeResidual, 3, 2, 8, 32, 2),
        new(BlockType.EdgeResidual, 3, 2, 8, 48, 4),
        new(BlockType.InvertedResidual, 5, 2, 8, 96, 5),
        new(BlockType.InvertedResidual, 5, 1, 8, 144, 4),
        new(BlockType.InvertedResidual, 5, 2, 8, 192, 2),
    ];

    private sealed record Coefficients(string Name, BaseTableFamily Family, double Width, double Depth, int Resolution);

    private static readonly Coefficients[] Table =
    [
        new("b0", BaseTableFamily.Standard, 1.0, 1.0, 224),
        new("b1", BaseTableFamily.Standard, 1.0, 1.1, 240),
        new("b2", BaseTableFamily.Standard, 1.1, 1.2, 260),
        new("b3", BaseTableFamily.Standard, 1.2, 1.4, 300),
        new("b4", BaseTableFamily.Standard, 1.4, 1.8, 380),
        new("b5", BaseTableFamily.Standard, 1.6, 2.2, 456),
        new("b6", BaseTableFamily.Standard, 1.8, 2.6, 528),
        new("b7", BaseTableFamily.Standard, 2.0, 3.1, 600),
        new("b8", BaseTableFamily.Standard, 2.2, 3.6, 672),
        new("es", BaseTableFamily.EdgeTpu, 1.0, 1.0, 224),
        new("em", BaseTableFamily.EdgeTpu, 1.0, 1.1, 240),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. Table.Select(c => c.Name)];

    public static IEnumerable<ArchSpec> CreateAll() => Table.Select(Create);

    private static ArchSpec Create(Coefficients c)
    {
        var groups = c.Family == BaseTableFamily.Standard ? StandardGroups : EdgeTpuGroups;
        var stem = ChannelScaling.ScaleWidth(BaseStemChannels, c.Width);
        var head = ChannelScaling.ScaleWidth(BaseHeadChannels, c.Width);
        var blocks = new List<BlockSpec>();

        var inChannels = stem;
        var size = SamePadding.OutputSize(c.Resolution, ArchSpec.StemStride);
        var module = 0;
        var indexInModule = 0;
        for (var g = 0; g < groups.Length; g++)
        {
            var group = groups[g];
            // A stride-1 group after the first continues the previous module, so there are always 7 modules.
            if (g == 0 || group.Stride != 1)
            {
                module++;
                indexInModule = 0;
            }

            var outChannels = ChannelScaling.ScaleWidth(group.OutChannels, c.Width);
            var repeats = ChannelScaling.ScaleDepth(group.Repeats, c.Depth);
            for (var r = 0; r < repeats; r++)
            {
                var isRepeat = r > 0;
                var stride = isRepeat ? 1 : group.Stride;
                var expand = isRepeat && group.RepeatExpandRatio is { } repeatRatio ? repeatRatio : group.ExpandRatio;
                var mid = inChannels * expand;
                // em's group-1 repeats ("noskip") have no residual even though in == out and stride is 1.
                var noSkip = isRepeat && group.RepeatExpandRatio is not null;
                var residual = stride == 1 && inChannels == outChannels && !noSkip;
                var squeeze = c.Family == BaseTableFamily.Standard ? inChannels / 4 : 0;

                var block = new BlockSpec(group.Type, module, indexInModule, group.Kernel, stride, inChannels, mid, outChannels,
                    squeeze, residual, size);
                blocks.Add(block);
                indexInModule++;
                inChannels = outChannels;
                size = block.OutputSize;
            }
        }

        return new ArchSpec(c.Name, c.Family, c.Width, c.Depth, c.Resolution, stem, head, blocks);
    }
}
