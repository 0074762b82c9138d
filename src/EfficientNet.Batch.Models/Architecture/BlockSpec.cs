namespace EfficientNet.Batch.Models.Architecture;

public enum BlockType
{
    /// <summary>Inverted residual (MBConv): optional 1x1 expand, depthwise k×k, optional SE, 1x1 project.</summary>
    InvertedResidual,

    /// <summary>EdgeTPU fused block: k×k conv in→mid, 1x1 conv mid→out (the 1x1 carries the stride, 0.x/TF placement).</summary>
    EdgeResidual,
}

public enum ActivationKind
{
    /// <summary>x·sigmoid(x), used by b0..b8.</summary>
    Swish,

    /// <summary>max(x, 0), used by the EdgeTPU models es and em.</summary>
    Relu,
}

/// <summary>One backbone block with its checkpoint position and the spatial sizes it sees at the arch resolution.</summary>
/// <param name="Module">Checkpoint module index: the <c>L</c> of <c>backbone.layers.L.j</c> (1..5).</param>
/// <param name="IndexInModule">The <c>j</c> of <c>backbone.layers.L.j</c>.</param>
/// <param name="SqueezeChannels">Squeeze-excitation width, 0 when the block has no SE.</param>
/// <param name="InputSize">Spatial input size (height = width).</param>
public sealed record BlockSpec(
    BlockType Type,
    int Module,
    int IndexInModule,
    int Kernel,
    int Stride,
    int InChannels,
    int MidChannels,
    int OutChannels,
    int SqueezeChannels,
    bool HasResidual,
    int InputSize)
{
    public string KeyPrefix => $"backbone.layers.{Module}.{IndexInModule}";

    public int OutputSize => SamePadding.OutputSize(InputSize, Stride);

    /// <summary>An IR block with expand ratio 1 has no expand conv (mid = in).</summary>
    public bool HasExpandConv => Type == BlockType.InvertedResidual && MidChannels != InChannels;

    public bool HasSqueezeExcitation => SqueezeChannels > 0;
}
