using EfficientNet.Batch.Models.Architecture;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>Checks a state dict against an architecture's checkpoint layout before anything is built from it.</summary>
public static class CheckpointValidator
{
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
