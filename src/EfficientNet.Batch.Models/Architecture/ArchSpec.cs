using System.Collections.Frozen;

namespace EfficientNet.Batch.Models.Architecture;

/// <summary>One EfficientNet architecture (b0..b8, es, em) fully expanded from the base tables of spec §1:
/// scaled channels, repeated blocks, checkpoint positions and spatial sizes at the arch resolution, with a classifier
/// head of <see cref="ClassCount"/> outputs (1000 for the zoo, N for a fine-tuned custom model).</summary>
public sealed class ArchSpec
{
    /// <summary>Outputs of the zoo's classifier head: the ImageNet-1k classes.</summary>
    public const int ImageNetClassCount = 1000;

    /// <summary>Fewest head outputs a custom model may have: a softmax over one class says nothing.</summary>
    public const int MinClassCount = 2;

    public const int StemKernel = 3;
    public const int StemStride = 2;
    public const int InputChannels = 3;

    /// <summary>Number of checkpoint modules: stem layers.0, blocks layers.1–5, head conv layers.6.</summary>
    public const int ModuleCount = 7;

    internal ArchSpec(
        string name,
        BaseTableFamily family,
        double widthCoefficient,
        double depthCoefficient,
        int resolution,
        int stemChannels,
        int headChannels,
        IReadOnlyList<BlockSpec> blocks,
        int classCount = ImageNetClassCount)
    {
        Name = name;
        Family = family;
        WidthCoefficient = widthCoefficient;
        DepthCoefficient = depthCoefficient;
        Resolution = resolution;
        StemChannels = stemChannels;
        HeadChannels = headChannels;
        Blocks = blocks;
        ClassCount = classCount;
        _parameterShapes = new Lazy<IReadOnlyList<ParameterShape>>(() => CheckpointLayout.Describe(this));
    }

    private readonly Lazy<IReadOnlyList<ParameterShape>> _parameterShapes;

    /// <summary>Short arch name as used in checkpoint file names: "b0".."b8", "es", "em".</summary>
    public string Name { get; }

    public BaseTableFamily Family { get; }

    public double WidthCoefficient { get; }

    public double DepthCoefficient { get; }

    /// <summary>Input height = width the arch is evaluated (and exported) at.</summary>
    public int Resolution { get; }

    public int StemChannels { get; }

    public int HeadChannels { get; }

    public IReadOnlyList<BlockSpec> Blocks { get; }

    /// <summary>Outputs of the classifier head <c>head.fc</c> (<see cref="ImageNetClassCount"/> for the zoo).</summary>
    public int ClassCount { get; }

    /// <summary>The same backbone with a head of <paramref name="classCount"/> outputs, as a checkpoint fine-tuned on
    /// other classes has (<c>head.fc.weight</c> [N, head channels]); everything else is unchanged. One instance per
    /// arch and count, so models built from equal definitions compare equal.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than <see cref="MinClassCount"/> classes.</exception>
    public ArchSpec WithClassCount(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, MinClassCount);
        var zoo = ByName[Name];
        return classCount == ImageNetClassCount
            ? zoo
            : WithHeads.GetOrAdd((Name, classCount), key => new ArchSpec(
                zoo.Name, zoo.Family, zoo.WidthCoefficient, zoo.DepthCoefficient, zoo.Resolution, zoo.StemChannels, zoo.HeadChannels, zoo.Blocks, key.ClassCount));
    }

    public ActivationKind Activation => Family == BaseTableFamily.EdgeTpu ? ActivationKind.Relu : ActivationKind.Swish;

    public int StemOutputSize => SamePadding.OutputSize(Resolution, StemStride);

    public int LastBlockChannels => Blocks[^1].OutChannels;

    public int FinalFeatureSize => Blocks[^1].OutputSize;

    /// <summary>Spatial output size of each checkpoint module layers.0..6 (b0: 112, 112, 56, 28, 14, 7, 7).</summary>
    public IReadOnlyList<int> ModuleOutputSizes
    {
        get
        {
            var sizes = new int[ModuleCount];
            sizes[0] = StemOutputSize;
            foreach (var block in Blocks)
            {
                sizes[block.Module] = block.OutputSize;
            }

            sizes[ModuleCount - 1] = FinalFeatureSize;
            return sizes;
        }
    }

    /// <summary>Every checkpoint tensor in mmcls state-dict order (spec §4), BN running statistics included.</summary>
    public IReadOnlyList<ParameterShape> ParameterShapes() => _parameterShapes.Value;

    /// <summary>Learnable parameters of the checkpoint layout (conv/fc weights and biases, BN γ and β; not the
    /// running statistics). Equals the metafile count of spec §2.</summary>
    public long ParameterCount => ParameterCounter.CountLearnable(ParameterShapes());

    /// <summary>Conv + fc multiply-adds for one image at <see cref="Resolution"/>, with the 0.x/TF stride placement
    /// for edge-residual blocks (spec §2).</summary>
    public long MultiplyAdds => MultiplyAddCounter.Count(this);

    public override string ToString() =>
        $"efficientnet-{Name} (w {WidthCoefficient}, d {DepthCoefficient}, R {Resolution}"
        + (ClassCount == ImageNetClassCount ? ")" : $", {ClassCount} classes)");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, int ClassCount), ArchSpec> WithHeads = new();

    private static readonly FrozenDictionary<string, ArchSpec> ByName =
        ArchitectureFactory.CreateAll().ToFrozenDictionary(a => a.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>All eleven architectures: b0..b8, es, em.</summary>
    public static IReadOnlyList<ArchSpec> All { get; } =
        [.. ArchitectureFactory.Names.Select(n => ByName[n])];

    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ArchSpec? arch) =>
        ByName.TryGetValue(name, out arch);

    public static ArchSpec Get(string name) =>
        TryGet(name, out var arch)
            ? arch
            : throw new ArgumentException($"Unknown EfficientNet arch '{name}'. Known: {string.Join(", ", ArchitectureFactory.Names)}.", nameof(name));
}

public enum BaseTableFamily
{
    /// <summary>The 'b' base table (b0..b8): inverted residual blocks with squeeze-excitation, Swish.</summary>
    Standard,

    /// <summary>The 'e' base table (es, em): edge-residual early groups, no SE, ReLU.</summary>
    EdgeTpu,
}
