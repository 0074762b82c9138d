namespace EfficientNet.Batch.Models.Store;

/// <summary>An ONNX file offered for import that ONNX Runtime cannot load, or whose input/output do not fit the model
/// (input float [N, 3, R, R] at the variant's resolution, output float [N, 1000]).</summary>
public sealed class OnnxModelRejectedException(string path, string reason)
    : Exception($"{Path.GetFileName(path)} cannot be imported: {reason}")
{
    public string FilePath { get; } = path;

    public string Reason { get; } = reason;
}
