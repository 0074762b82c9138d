using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests.Download;

/// <summary>torch.save-layout checkpoints of deterministic random weights, built once per test run.</summary>
internal static class TestCheckpoints
{
    private static readonly Lazy<byte[]> LazyB0 = new(() => TorchZipCheckpointWriter.ToBytes(RandomWeights.Generate(ArchSpec.Get("b0"), 1)));
    private static readonly Lazy<byte[]> LazyEs = new(() => TorchZipCheckpointWriter.ToBytes(RandomWeights.Generate(ArchSpec.Get("es"), 1)));

    public static byte[] B0 => LazyB0.Value;

    public static byte[] Es => LazyEs.Value;
}
