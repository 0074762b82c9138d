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

/// <summary>cuDNN's convolution algorithm search (the CUDA provider's <c>cudnn_conv_algo_search</c>).</summary>
public enum CudnnConvAlgoSearch
{
    /// <summary>Benchmarks every algorithm once per input shape and caches the winner. Batches have one fixed
    /// shape, so the search runs once per session and the fastest kernels are used from then on.</summary>
    Exhaustive,

    /// <summary>cuDNN's heuristics: no start-up search, possibly slower kernels.</summary>
    Heuristic,

    /// <summary>The default algorithm: only for debugging.</summary>
    Default,
}

/// <summary>When ONNX Runtime's idle intra-op threads busy-wait for work instead of sleeping.</summary>
public enum IntraOpSpinning
{
    /// <summary>Never: a thread sleeps whenever it has no work, and is woken for the next operator. The worker's decoders
    /// then run alongside inference.</summary>
    Off,

    /// <summary>Between the operators of a run, stopped the moment the run returns (<c>session.force_spinning_stop</c>):
    /// no wake-up latency inside a batch, and no busy-waiting through the gaps between batches.</summary>
    DuringRun,

    /// <summary>ONNX Runtime's default: threads also keep spinning for a while after each run.</summary>
    Always,
}

/// <summary>The number format a session computes in.</summary>
public enum InferencePrecision
{
    /// <summary>The graph as built: float32 weights and activations.</summary>
    Float32,

    /// <summary>A float16 copy of the graph (weights and activations; inputs, outputs and the softmax stay float32), for
    /// GPUs with fast half-precision convolutions. It moves the centred log-probabilities by about 1e-3 (measured
    /// against the float32-exact reference, docs/benchmarks.md). Honoured on every provider, so the precision a shard
    /// reports never depends on where it ran; on CPU it saves nothing (ONNX Runtime's CPU provider computes most of
    /// these operators in float32 between casts, so there only the weights are rounded).</summary>
    Float16,
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

    /// <summary>Images per ONNX Runtime call. 8 is the fastest on CPU (measured with <c>effnet bench</c>, b0 on 2 cores:
    /// pipeline 198-205 images/s at 8 against 173-182 at 16 and 161 at 32, see docs/benchmarks.md); GPU nodes want larger
    /// batches (not measured here: the chart's GPU workers start at 64, from published GPU figures in docs/benchmarks.md;
    /// run <c>effnet bench --batch-size</c> on the node).</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 8;

    /// <summary>ONNX Runtime's CPU memory arena: intermediate tensors come from a reused arena instead of malloc.</summary>
    public bool EnableMemoryArena { get; set; } = true;

    /// <summary>Memory pattern planning: with fixed batch shapes ONNX Runtime plans intermediate buffers once and
    /// reuses the plan for every batch.</summary>
    public bool EnableMemoryPattern { get; set; } = true;

    /// <summary>When idle intra-op threads spin waiting for work. The default spins inside a batch (no wake-up latency between
    /// operators) and stops the moment it returns, while the worker's decoders pause during CPU batches: the fastest
    /// whole jobs measured (docs/benchmarks.md); for inference alone it matches ONNX Runtime's default
    /// (<see cref="IntraOpSpinning.Always"/>): 0.99-1.01 of a plain session on b0, b3 and b7.</summary>
    [EnumDataType(typeof(IntraOpSpinning))]
    public IntraOpSpinning IntraOpSpinning { get; set; } = IntraOpSpinning.DuringRun;

    /// <summary>Float32 (default) or Float16: an explicit choice, because float16 changes the probabilities slightly.</summary>
    [EnumDataType(typeof(InferencePrecision))]
    public InferencePrecision Precision { get; set; } = InferencePrecision.Float32;

    /// <summary>cuDNN convolution algorithm search on CUDA; ignored on CPU.</summary>
    [EnumDataType(typeof(CudnnConvAlgoSearch))]
    public CudnnConvAlgoSearch CudnnConvAlgoSearch { get; set; } = CudnnConvAlgoSearch.Exhaustive;

    /// <summary>Images whose header declares more pixels are rejected before decoding (decompression bombs).</summary>
    [Range(1, long.MaxValue)]
    public long MaxImagePixels { get; set; } = ImagePreprocessor.DefaultMaxPixels;

    /// <summary>The JPEG decoder: libjpeg-turbo when it loads (pixels equal to cv2.imread's), else ImageSharp.</summary>
    [EnumDataType(typeof(JpegDecoderKind))]
    public JpegDecoderKind JpegDecoder { get; set; } = JpegDecoderKind.Auto;
}

/// <summary>Checks <see cref="InferenceOptions"/>'s data annotations with code generated at compile time (no reflection at start-up).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class InferenceOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<InferenceOptions>;
