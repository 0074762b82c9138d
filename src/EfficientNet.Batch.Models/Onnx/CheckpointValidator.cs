using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>Checks a state dict against an architecture's checkpoint layout before anything is built from it. The head
/// must have the arch's <see cref="ArchSpec.ClassCount"/> outputs (1000 for the zoo; a custom model's arch comes from
/// <see cref="ArchSpec.WithClassCount"/>); every other key and shape is exact.</summary>
public static class CheckpointValidator
{
    /// <summary>The classifier weight, [classes, head channels]: its first dimension is the number of classes.</summary>
    public const string HeadWeightKey = "head.fc.weight";

    /// <summary>The number of outputs of the checkpoint's classifier head (<see cref="HeadWeightKey"/> [N, C]), or null
    /// when the tensor is missing or not 2-D (then <see cref="Validate"/> says what is wrong).</summary>
    public static int? HeadClassCount(StateDict weights) =>
        weights.TryGetValue(HeadWeightKey, out var head) && head.Shape.Length == 2 ? head.Shape[0] : null;

    /// <exception cref="CheckpointMismatchException">A key is missing, unexpected or has the wrong shape.</exception>
    public static void Validate(ArchSpec arch, StateDict weights, string? target = null)
    {
        var expected = arch.ParameterShapes();
        var expectedKeys = expected.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        var misShaped = new List<ShapeMismatch>();
        foreach (var shape in expected)
        {
            if (!weights.TryGetValue(shape.Key, out var tensor))
            {
                missing.Add(shape.Key);
            }
            else if (!tensor.Shape.AsSpan().SequenceEqual(shape.Shape))
            {
                misShaped.Add(new ShapeMismatch(shape.Key, shape.Shape, tensor.Shape));
            }
        }

        // num_batches_tracked is a training counter that some checkpoints carry; it never matters at inference.
        var unexpected = weights.Keys
            .Where(k => !expectedKeys.Contains(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

        if (missing.Count + unexpected.Count + misShaped.Count > 0)
        {
            throw new CheckpointMismatchException(target ?? $"efficientnet-{arch.Name}", missing, unexpected, misShaped);
        }
    }
}
