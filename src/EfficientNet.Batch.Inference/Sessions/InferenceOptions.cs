using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.Inference;

/// <summary>Where ONNX Runtime runs a model.</summary>
public enum InferenceDevice
{
    /// <summary>CUDA when its libraries load, else CPU (with the reason logged).</summary>
    Auto,

    /// <summary>CPU only.</summary>
    Cpu,

    /// <summary>CUDA or fail: for GPU hosts, where silently running on CPU would be a 50x slowdown.</summary>
    Cuda,
}

/// <summary>ONNX Runtime graph optimisation level (names readable in configuration).</summary>
public enum GraphOptimization
{
    Disabled,
    Basic,
    Extended,
    All,
}

/// <summary>Configuration section "Inference".</summary>
public sealed class InferenceOptions
{
    public const string SectionName = "Inference";

    [EnumDataType(typeof(InferenceDevice))]
    public InferenceDevice Device { get; set; } = InferenceDevice.Auto;

    /// <summary>CUDA device ordinal.</summary>
    [Range(0, 63)]
    public int DeviceId { get; set; }

    /// <summary>Threads inside one operator; 0 lets ONNX Runtime use one per physical core.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>Threads running independent operators in parallel; 0 = ONNX Runtime default.</summary>
    [Range(0, 1024)]
    public int InterOpThreads { get; set; }

    [EnumDataType(typeof(GraphOptimization))]
    public GraphOptimization GraphOptimization { get; set; } = GraphOptimization.All;

    /// <summary>Images per ONNX Runtime call.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 16;

    /// <summary>Images whose header declares more pixels are rejected before decoding (decompression bombs).</summary>
    [Range(1, long.MaxValue)]
    public long MaxImagePixels { get; set; } = ImagePreprocessor.DefaultMaxPixels;
}
