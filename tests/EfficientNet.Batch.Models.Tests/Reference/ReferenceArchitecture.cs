namespace EfficientNet.Batch.Models.Tests.Reference;

internal enum ReferenceBlockKind
{
    InvertedResidual,
    EdgeResidual,
}

/// <summary>One backbone block as the reference derives it. <see cref="Stride"/> is the block's stride wherever the
/// block puts it (depthwise conv for IR, the 1x1 conv2 for ER in the 0.x/TF placement).</summary>
internal sealed record ReferenceBlock(
    ReferenceBlockKind Kind,
    int Module,
    int Index,
    int Kernel,
    int Stride,
    int In,
    int Mid,
    int Out,
    int Squeeze,
    bool Residual,
    int InputSize)
{
    public string Prefix => $"backbone.layers.{Module}.{Index}";

    public int OutputSize => (InputSize + Stride - 1) / Stride;
}

/// <summary>An EfficientNet block list derived on its own from the base tables and scaling rules of the spec
/// (§1.1, §1.2), deliberately not from the product's <c>ArchSpec</c>, so that comparing the two is a real check.</summary>
internal sealed record ReferenceArchitecture(
    string Name,
    bool IsEdgeTpu,
    int Resolution,
    int Stem,
    int Head,
    IReadOnlyList<ReferenceBlock> Blocks)
{
    public const int Classes = 1000;

    private sealed record Group(ReferenceBlockKind Kind, int Kernel, int Stride, int Expand, int Out, int Repeats);

    // Spec §1.1 'b' table: IR k s e out n.
    private static readonly Group[] StandardGroups =
    [
        new(ReferenceBlockKind.InvertedResidual, 3, 1, 1, 16, 1),
        new(ReferenceBlockKind.InvertedResidual, 3, 2, 6, 24, 2),
        new(ReferenceBlockKind.InvertedResidual, 5, 2, 6, 40, 2),
        new(ReferenceBlockKind.InvertedResidual, 3, 2, 6, 80, 3),
        new(ReferenceBlockKind.InvertedResidual, 5, 1, 6, 112, 3),
        new(ReferenceBlockKind.InvertedResidual, 5, 2, 6, 192, 4),
        new(ReferenceBlockKind.InvertedResidual, 3, 1, 6, 320, 1),
    ];

    // Spec §1.1 'e' table. Group 1's expand is special (first block 3, repeats 4 without residual), see Derive.
    private static readonly Group[] EdgeTpuGroups =
    [
        new(ReferenceBlockKind.EdgeResidual, 3, 1, 3, 24, 1),
        new(ReferenceBlockKind.EdgeResidual, 3, 2, 8, 32, 2),
        new(ReferenceBlockKind.EdgeResidual, 3, 2, 8, 48, 4),
        new(ReferenceBlockKind.InvertedResidual, 5, 2, 8, 96, 5),
        new(ReferenceBlockKind.InvertedResidual, 5, 1, 8, 144, 4),
        new(ReferenceBlockKind.InvertedResidual, 5, 2, 8, 192, 2),
    ];

    // Spec §1.2: width, depth, resolution.
    private static readonly Dictionary<string, (double Width, double Depth, int Resolution)> Coefficients = new(StringComparer.Ordinal)
    {
        ["b0"] = (1.0, 1.0, 224),
        ["b1"] = (1.0, 1.1, 240),
        ["b2"] = (1.1, 1.2, 260),
        ["b3"] = (1.2, 1.4, 300),
        ["b4"] = (1.4, 1.8, 380),
        ["b5"] = (1.6, 2.2, 456),
        ["b6"] = (1.8, 2.6, 528),
        ["b7"] = (2.0, 3.1, 600),
        ["b8"] = (2.2, 3.6, 672),
        ["es"] = (1.0, 1.0, 224),
        ["em"] = (1.0, 1.1, 240),
    };

    public static IReadOnlyList<string> Names { get; } = [.. Coefficients.Keys];

    public static ReferenceArchitecture Derive(string name)
    {
        var (width, depth, resolution) = Coefficients[name];
        var edgeTpu = name.StartsWith('e');
        var groups = edgeTpu ? EdgeTpuGroups : StandardGroups;

        var stem = MakeDivisible(32 * width);
        var size = (resolution + 1) / 2; // the stem has stride 2
        var blocks = new List<ReferenceBlock>();
        var inChannels = stem;
        var module = 0;
        var index = 0;
        for (var g = 0; g < groups.Length; g++)
        {
            var group = groups[g];
            // Group 1 opens layers.1; later stride-1 groups are appended to the previous module.
            if (g == 0 || group.Stride != 1)
            {
                module++;
                index = 0;
            }

            var outChannels = MakeDivisible(group.Out * width);
            var repeats = (int)Math.Ceiling(depth * group.Repeats);
            for (var i = 0; i < repeats; i++)
            {
                var stride = i == 0 ? group.Stride : 1;
                var edgeFirstGroup = edgeTpu && g == 0;
                var expand = edgeFirstGroup ? (i == 0 ? 3 : 4) : group.Expand;
                var noSkip = edgeFirstGroup && i > 0;
                var block = new ReferenceBlock(
                    group.Kind,
                    module,
                    index++,
                    group.Kernel,
                    stride,
                    inChannels,
                    inChannels * expand,
                    outChannels,
                    edgeTpu ? 0 : inChannels / 4,
                    stride == 1 && inChannels == outChannels && !noSkip,
                    size);
                blocks.Add(block);
                size = block.OutputSize;
                inChannels = outChannels;
            }
        }

        return new ReferenceArchitecture(name, edgeTpu, resolution, stem, MakeDivisible(1280 * width), blocks);
    }

    /// <summary>Every checkpoint key the reference reads, with the shape it expects (spec §4).</summary>
    public IReadOnlyDictionary<string, int[]> ParameterShapes()
    {
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        void ConvBn(string prefix, int outC, int inC, int kernel)
        {
            shapes[$"{prefix}.conv.weight"] = [outC, inC, kernel, kernel];
            foreach (var suffix in new[] { "weight", "bias", "running_mean", "running_var" })
            {
                shapes[$"{prefix}.bn.{suffix}"] = [outC];
            }
        }

        ConvBn("backbone.layers.0", Stem, 3, 3);
        foreach (var b in Blocks)
        {
            var p = b.Prefix;
            if (b.Kind == ReferenceBlockKind.EdgeResidual)
            {
                ConvBn($"{p}.conv1", b.Mid, b.In, b.Kernel);
                ConvBn($"{p}.conv2", b.Out, b.Mid, 1);
                continue;
            }

            if (b.Mid != b.In)
            {
                ConvBn($"{p}.expand_conv", b.Mid, b.In, 1);
            }

            ConvBn($"{p}.depthwise_conv", b.Mid, 1, b.Kernel);
            if (b.Squeeze > 0)
            {
                shapes[$"{p}.se.conv1.conv.weight"] = [b.Squeeze, b.Mid, 1, 1];
                shapes[$"{p}.se.conv1.conv.bias"] = [b.Squeeze];
                shapes[$"{p}.se.conv2.conv.weight"] = [b.Mid, b.Squeeze, 1, 1];
                shapes[$"{p}.se.conv2.conv.bias"] = [b.Mid];
            }

            ConvBn($"{p}.linear_conv", b.Out, b.Mid, 1);
        }

        ConvBn("backbone.layers.6", Head, Blocks[^1].Out, 1);
        shapes["head.fc.weight"] = [Classes, Head];
        shapes["head.fc.bias"] = [Classes];
        return shapes;
    }

    /// <summary>Spec §1.2 make_divisible with divisor 8: round to the nearest multiple, at least 8, and never more
    /// than 10 % below the scaled value.</summary>
    private static int MakeDivisible(double value)
    {
        var n = Math.Max(8, (int)((value + 4) / 8) * 8);
        return n < 0.9 * value ? n + 8 : n;
    }
}
