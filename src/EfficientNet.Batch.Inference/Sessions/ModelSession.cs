using System.Collections.Concurrent;
using EfficientNet.Batch.Models.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// One ONNX Runtime session for a classifier exported like mmcls does: input "input" [N, 3, R, R] float,
/// output "probs" [N, classes] (softmax). Create once per model and device and share: <see cref="Run(InferenceBatch)"/> is
/// safe to call concurrently.
/// </summary>
public sealed class ModelSession : IDisposable
{
    public const string InputName = "input";
    public const string OutputName = "probs";

    private readonly InferenceSession _session;
    private readonly string[] _inputNames = [InputName];
    private readonly string[] _outputNames = [OutputName];
    private readonly ConcurrentDictionary<int, ConcurrentBag<InferenceBatch>> _batchPool = new();
    private readonly Lock _allocatorGate = new();
    private OrtAllocator? _pinnedAllocator;
    private volatile bool _disposed;

    private ModelSession(
        InferenceSession session, string modelPath, ExecutionProviderChoice provider, InferencePrecision precision, int resolution, int classCount)
    {
        _session = session;
        ModelPath = modelPath;
        Provider = provider;
        Precision = precision;
        Resolution = resolution;
        ClassCount = classCount;
    }

    public string ModelPath { get; }

    /// <summary>Provider the session runs on, and the fallback reason when CUDA was wanted but not usable.</summary>
    public ExecutionProviderChoice Provider { get; }

    /// <summary>CUDA device ordinal the session was configured for (unused on CPU).</summary>
    public int DeviceId { get; private init; }

    /// <summary>The number format the session computes in (<see cref="InferenceOptions.Precision"/>).</summary>
    public InferencePrecision Precision { get; }

    /// <summary>ONNX Runtime's name of the provider, e.g. "CUDAExecutionProvider".</summary>
    public string ExecutionProvider => Provider.Provider;

    /// <summary>Input side R (from the model's fixed input shape).</summary>
    public int Resolution { get; }

    public int ClassCount { get; }

    /// <summary>Floats per image in the input batch: 3 · R · R.</summary>
    public int ImageLength => 3 * Resolution * Resolution;

    /// <summary>Loads <paramref name="onnxPath"/> and checks that its input and output follow the contract above.</summary>
    /// <exception cref="InvalidDataException">The model's inputs or outputs do not match the contract, or it cannot be
    /// converted to the configured precision.</exception>
    /// <exception cref="InvalidOperationException">CUDA was required and is not usable.</exception>
    public static ModelSession Open(string onnxPath, InferenceOptions options, ExecutionProviderSelector providerSelector)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(providerSelector);
        if (!File.Exists(onnxPath))
        {
            throw new FileNotFoundException($"ONNX model not found: {onnxPath}", onnxPath);
        }

        using var sessionOptions = CreateSessionOptions(options);
        var provider = providerSelector.Configure(sessionOptions, options);
        var session = LoadGraph(onnxPath, options.Precision, sessionOptions);
        try
        {
            var (resolution, classCount) = ReadContract(session, onnxPath);
            return new ModelSession(session, onnxPath, provider, options.Precision, resolution, classCount) { DeviceId = options.DeviceId };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>An ONNX Runtime session on the graph in <paramref name="onnxPath"/> as <paramref name="precision"/> runs
    /// it: the file itself, or its float16 form (see <see cref="Float16Conversion"/>), converted in memory at session
    /// start, so there is no second file to keep in step with the first.</summary>
    /// <exception cref="InvalidDataException">The graph cannot be converted to float16; the message says why.</exception>
    public static InferenceSession LoadGraph(string onnxPath, InferencePrecision precision, SessionOptions sessionOptions) =>
        precision == InferencePrecision.Float16
            ? new InferenceSession(Float16Graph(onnxPath), sessionOptions)
            : new InferenceSession(onnxPath, sessionOptions);

    private static byte[] Float16Graph(string onnxPath)
    {
        ModelProto model;
        using (var file = File.OpenRead(onnxPath))
        {
            model = ModelProto.Parser.ParseFrom(file);
        }

        try
        {
            return Float16Conversion.ToFloat16(model).ToByteArray();
        }
        catch (Exception e) when (e is NotSupportedException or OverflowException)
        {
            throw new InvalidDataException(
                $"{onnxPath} cannot run at Inference:Precision=Float16: {e.Message} Use Float32 for this model.", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="count"/> images. ONNX Runtime reads the caller's input and writes the caller's output
    /// memory directly (both are pinned for the call), so nothing is copied on the CPU side.
    /// </summary>
    /// <param name="batchNchw">count · 3 · R · R floats, images one after another, CHW each.</param>
    /// <param name="probabilities">Receives count · ClassCount probabilities, one row per image.</param>
    public unsafe void Run(ReadOnlySpan<float> batchNchw, int count, Span<float> probabilities)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var inputLength = (long)count * ImageLength;
        var outputLength = (long)count * ClassCount;
        if (batchNchw.Length < inputLength)
        {
            throw new ArgumentException($"A batch of {count} needs {inputLength} floats; {batchNchw.Length} were given.", nameof(batchNchw));
        }

        if (probabilities.Length < outputLength)
        {
            throw new ArgumentException($"A batch of {count} writes {outputLength} probabilities; the buffer holds {probabilities.Length}.", nameof(probabilities));
        }

        fixed (float* input = batchNchw)
        fixed (float* output = probabilities)
        {
            using var inputValue = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, 3, Resolution, Resolution], (nint)input, inputLength * sizeof(float));
            using var outputValue = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, ClassCount], (nint)output, outputLength * sizeof(float));
            using var runOptions = new RunOptions();
            _session.Run(runOptions, _inputNames, [inputValue], _outputNames, [outputValue]);
        }
    }

    /// <summary>
    /// ONNX Runtime session options for <paramref name="options"/> (before the execution provider is added): graph
    /// optimisation level, intra/inter-op threads, CPU memory arena and memory pattern, intra-op spinning.
    /// </summary>
    public static SessionOptions CreateSessionOptions(InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimization switch
            {
                GraphOptimization.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            EnableCpuMemArena = options.EnableMemoryArena,
            EnableMemoryPattern = options.EnableMemoryPattern,
        };
        foreach (var (key, value) in SpinningConfigEntries(options.IntraOpSpinning))
        {
            sessionOptions.AddSessionConfigEntry(key, value);
        }

        return sessionOptions;
    }

    /// <summary>ONNX Runtime's session configuration entries for <paramref name="spinning"/>.</summary>
    public static IReadOnlyList<(string Key, string Value)> SpinningConfigEntries(IntraOpSpinning spinning) =>
    [
        (IntraOpSpinningKey, spinning == IntraOpSpinning.Off ? "0" : "1"),
        (ForceSpinningStopKey, spinning == IntraOpSpinning.DuringRun ? "1" : "0"),
    ];

    /// <summary>ONNX Runtime's session configuration key for intra-op thread spinning.</summary>
    public const string IntraOpSpinningKey = "session.intra_op.allow_spinning";

    /// <summary>Stops spinning threads as soon as the last concurrent run returns.</summary>
    public const string ForceSpinningStopKey = "session.force_spinning_stop";

    /// <summary>
    /// A batch buffer of fixed <paramref name="capacity"/> images from this session's pool (allocated on first use,
    /// then reused): callers write images straight into its slots and <see cref="Run(InferenceBatch)"/> it. Return
    /// it with <see cref="ReturnBatch"/>. On CUDA its memory is pinned host memory bound through IOBinding, so the
    /// copies to and from the GPU are DMA transfers.
    /// </summary>
    public InferenceBatch RentBatch(int capacity)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        return _batchPool.TryGetValue(capacity, out var bag) && bag.TryTake(out var batch) ? batch : CreateBatch(capacity);
    }

    /// <summary>Gives a batch from <see cref="RentBatch"/> back for reuse.</summary>
    public void ReturnBatch(InferenceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_disposed)
        {
            batch.Dispose();
            return;
        }

        _batchPool.GetOrAdd(batch.Capacity, _ => []).Add(batch);
    }

    /// <summary>Runs the whole batch, all <see cref="InferenceBatch.Capacity"/> slots: the input shape never changes,
    /// so ONNX Runtime never re-plans. Slots the caller did not fill are padding; ignore their probabilities.</summary>
    public void Run(InferenceBatch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Binding is { } binding)
        {
            _session.RunWithBinding(batch.RunOptions, binding);
            binding.SynchronizeBoundOutputs();
        }
        else
        {
            _session.Run(batch.RunOptions, _inputNames, batch.Inputs, _outputNames, batch.Outputs);
        }
    }

    private InferenceBatch CreateBatch(int capacity)
    {
        long[] inputShape = [capacity, 3, Resolution, Resolution];
        long[] outputShape = [capacity, ClassCount];
        if (Provider.Provider != ExecutionProviderNames.Cuda)
        {
            // Native memory from ONNX Runtime's CPU allocator: no GC pinning, and the same OrtValues serve every run.
            return new InferenceBatch(
                capacity,
                ImageLength,
                ClassCount,
                OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, inputShape),
                OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, outputShape),
                binding: null);
        }

        var allocator = PinnedAllocator();
        var input = OrtValue.CreateAllocatedTensorValue(allocator, TensorElementType.Float, inputShape);
        var output = OrtValue.CreateAllocatedTensorValue(allocator, TensorElementType.Float, outputShape);
        var ioBinding = _session.CreateIoBinding();
        ioBinding.BindInput(InputName, input);
        ioBinding.BindOutput(OutputName, output);
        return new InferenceBatch(capacity, ImageLength, ClassCount, input, output, ioBinding);
    }

    private OrtAllocator PinnedAllocator()
    {
        lock (_allocatorGate)
        {
            return _pinnedAllocator ??= new OrtAllocator(
                _session,
                new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, DeviceId, OrtMemType.CpuOutput));
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var bag in _batchPool.Values)
        {
            while (bag.TryTake(out var batch))
            {
                batch.Dispose();
            }
        }

        _pinnedAllocator?.Dispose();
        _session.Dispose();
    }

    private static (int Resolution, int ClassCount) ReadContract(InferenceSession session, string onnxPath)
    {
        if (!session.InputMetadata.TryGetValue(InputName, out var input) || !session.OutputMetadata.TryGetValue(OutputName, out var output))
        {
            throw new InvalidDataException(
                $"{onnxPath}: expected input '{InputName}' and output '{OutputName}'; the model has inputs " +
                $"[{string.Join(", ", session.InputMetadata.Keys)}] and outputs [{string.Join(", ", session.OutputMetadata.Keys)}].");
        }

        var inputShape = input.Dimensions;
        var outputShape = output.Dimensions;
        if (input.ElementType != typeof(float) || inputShape.Length != 4 || inputShape[1] != 3 || inputShape[2] < 1 || inputShape[2] != inputShape[3])
        {
            throw new InvalidDataException(
                $"{onnxPath}: input '{InputName}' must be float [N, 3, R, R] with a fixed R; it is {input.ElementType.Name} [{string.Join(", ", inputShape)}].");
        }

        if (output.ElementType != typeof(float) || outputShape.Length != 2 || outputShape[1] < 1)
        {
            throw new InvalidDataException(
                $"{onnxPath}: output '{OutputName}' must be float [N, classes] with a fixed class count; it is {output.ElementType.Name} [{string.Join(", ", outputShape)}].");
        }

        return (inputShape[2], outputShape[1]);
    }
}
