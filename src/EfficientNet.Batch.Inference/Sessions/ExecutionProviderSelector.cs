using System.Runtime.InteropServices;
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
    private readonly Action<SessionOptions, IReadOnlyDictionary<string, string>> _appendCuda;

    /// <summary>Uses ONNX Runtime's real CUDA provider, configured through <see cref="OrtCUDAProviderOptions"/>.</summary>
    public ExecutionProviderSelector()
        : this(AppendCuda)
    {
    }

    /// <summary>For tests: <paramref name="appendCuda"/> stands in for appending the CUDA provider on a device.</summary>
    public ExecutionProviderSelector(Action<SessionOptions, int> appendCuda)
        : this(WithDeviceId(appendCuda))
    {
    }

    private ExecutionProviderSelector(Action<SessionOptions, IReadOnlyDictionary<string, string>> appendCuda)
    {
        ArgumentNullException.ThrowIfNull(appendCuda);
        _appendCuda = appendCuda;
    }

    /// <summary>For tests: <paramref name="appendCuda"/> stands in for appending the CUDA provider with these
    /// provider options (those of <see cref="CudaProviderOptions"/>).</summary>
    public static ExecutionProviderSelector WithCudaOptions(Action<SessionOptions, IReadOnlyDictionary<string, string>> appendCuda) =>
        new(appendCuda ?? throw new ArgumentNullException(nameof(appendCuda)));

    /// <summary>
    /// The CUDA provider's options for <paramref name="options"/>: the device, cuDNN's convolution algorithm search
    /// (exhaustive by default: batches have one fixed shape, so the search runs once and the winner is cached) and
    /// the largest cuDNN workspace, which that search needs to consider the fastest algorithms.
    /// </summary>
    public static IReadOnlyDictionary<string, string> CudaProviderOptions(InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = options.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = options.CudnnConvAlgoSearch switch
            {
                CudnnConvAlgoSearch.Heuristic => "HEURISTIC",
                CudnnConvAlgoSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
            ["cudnn_conv_use_max_workspace"] = "1",
            ["do_copy_in_default_stream"] = "1",
        };
    }

    /// <summary>Configures <paramref name="sessionOptions"/> for <paramref name="device"/> with default CUDA settings.</summary>
    /// <exception cref="InvalidOperationException">CUDA was required and cannot be used.</exception>
    public ExecutionProviderChoice Configure(SessionOptions sessionOptions, InferenceDevice device, int deviceId) =>
        Configure(sessionOptions, new InferenceOptions { Device = device, DeviceId = deviceId });

    /// <summary>Configures <paramref name="sessionOptions"/> for <paramref name="options"/>' device; CPU needs nothing appended.</summary>
    /// <exception cref="InvalidOperationException">CUDA was required and cannot be used.</exception>
    public ExecutionProviderChoice Configure(SessionOptions sessionOptions, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(sessionOptions);
        ArgumentNullException.ThrowIfNull(options);
        var device = options.Device;
        var deviceId = options.DeviceId;
        if (device == InferenceDevice.Cpu)
        {
            return new ExecutionProviderChoice(ExecutionProviderNames.Cpu, null);
        }

        try
        {
            _appendCuda(sessionOptions, CudaProviderOptions(options));
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

    /// <summary>The CUDA 13 and cuDNN 9 libraries ONNX Runtime's CUDA provider links against.</summary>
    private static readonly string[] CudaRuntimeLibraries = ["libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13", "libcudnn.so.9"];

    private static void AppendCuda(SessionOptions sessionOptions, IReadOnlyDictionary<string, string> providerOptions)
    {
        // Probed first: without them ONNX Runtime prints its own error line for the failed load before it fails,
        // which reads like a crash when CPU fallback is the expected outcome on a CPU node.
        if (OperatingSystem.IsLinux() && CudaRuntimeLibraries.FirstOrDefault(library => !CanLoad(library)) is { } missing)
        {
            throw new DllNotFoundException($"{missing} cannot be loaded (ONNX Runtime's CUDA provider needs CUDA 13 and cuDNN 9)");
        }

        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(providerOptions.ToDictionary(StringComparer.Ordinal));
        sessionOptions.AppendExecutionProvider_CUDA(cuda);
    }

    private static bool CanLoad(string library)
    {
        // The system search path (LD_LIBRARY_PATH, ld.so.cache) first, then beside ONNX Runtime's own libraries.
        string[] candidates = [library, Path.Combine(AppContext.BaseDirectory, library), Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", library)];
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                NativeLibrary.Free(handle);
                return true;
            }
        }

        return false;
    }

    private static Action<SessionOptions, IReadOnlyDictionary<string, string>> WithDeviceId(Action<SessionOptions, int> appendCuda)
    {
        ArgumentNullException.ThrowIfNull(appendCuda);
        return (sessionOptions, providerOptions) =>
            appendCuda(sessionOptions, int.Parse(providerOptions["device_id"], System.Globalization.CultureInfo.InvariantCulture));
    }
}
