using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Inference;

/// <summary>ONNX Runtime's execution provider names, as its own APIs and logs spell them.</summary>
public static class ExecutionProviderNames
{
    public const string Cpu = "CPUExecutionProvider";
    public const string Cuda = "CUDAExecutionProvider";
}

/// <summary>The provider a session was configured with, and why CPU was used when CUDA was wanted.</summary>
public sealed record ExecutionProviderChoice(string Provider, string? FallbackReason);

/// <summary>
/// Appends the CUDA execution provider when the device setting asks for it. With <see cref="InferenceDevice.Auto"/>
/// a CUDA that cannot load (no GPU, or CUDA 13 / cuDNN 9 libraries missing) means CPU plus a reason; with
/// <see cref="InferenceDevice.Cuda"/> it is a configuration error.
/// </summary>
public sealed class ExecutionProviderSelector
{
    private readonly Action<SessionOptions, int> _appendCuda;

    /// <summary>Uses ONNX Runtime's real <see cref="SessionOptions.AppendExecutionProvider_CUDA(int)"/>.</summary>
    public ExecutionProviderSelector()
        : this(static (sessionOptions, deviceId) => sessionOptions.AppendExecutionProvider_CUDA(deviceId))
    {
    }

    /// <summary>For tests: <paramref name="appendCuda"/> stands in for appending the CUDA provider.</summary>
    public ExecutionProviderSelector(Action<SessionOptions, int> appendCuda)
    {
        ArgumentNullException.ThrowIfNull(appendCuda);
        _appendCuda = appendCuda;
    }

    /// <summary>Configures <paramref name="sessionOptions"/> for <paramref name="device"/>; CPU needs nothing appended.</summary>
    /// <exception cref="InvalidOperationException">CUDA was required and cannot be used.</exception>
    public ExecutionProviderChoice Configure(SessionOptions sessionOptions, InferenceDevice device, int deviceId)
    {
        ArgumentNullException.ThrowIfNull(sessionOptions);
        if (device == InferenceDevice.Cpu)
        {
            return new ExecutionProviderChoice(ExecutionProviderNames.Cpu, null);
        }

        try
        {
            _appendCuda(sessionOptions, deviceId);
            return new ExecutionProviderChoice(ExecutionProviderNames.Cuda, null);
        }
        // OnnxRuntimeException: libonnxruntime_providers_cuda.so or its CUDA/cuDNN dependencies failed to load,
        // or no such device. The other two: a native library without the CUDA entry point at all.
        catch (Exception exception) when (exception is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var reason = $"CUDA execution provider unavailable on device {deviceId}: {exception.Message.Trim()}";
            if (device == InferenceDevice.Cuda)
            {
                throw new InvalidOperationException(
                    $"Inference:Device is Cuda, but the {reason}. Install CUDA 13 and cuDNN 9 (or run on a GPU node), " +
                    "or set Inference:Device to Auto or Cpu.", exception);
            }

            return new ExecutionProviderChoice(ExecutionProviderNames.Cpu, reason);
        }
    }
}
