using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class ExecutionProviderSelectorTests
{
    // OnnxRuntimeException has no public constructor; take a real one, as the CUDA append would throw it.
    private static readonly OnnxRuntimeException NativeFailure = CaptureNativeFailure();
    private static readonly Action<SessionOptions, int> CudaLibrariesMissing = (_, _) => throw NativeFailure;

    [Fact]
    public void Auto_falls_back_to_cpu_with_the_reason_when_cuda_cannot_load()
    {
        using var sessionOptions = new SessionOptions();

        var choice = new ExecutionProviderSelector(CudaLibrariesMissing).Configure(sessionOptions, InferenceDevice.Auto, deviceId: 0);

        Assert.Equal(ExecutionProviderNames.Cpu, choice.Provider);
        Assert.Contains(NativeFailure.Message.Trim(), choice.FallbackReason);
    }

    [Fact]
    public void Required_cuda_that_cannot_load_is_a_configuration_error_naming_the_setting()
    {
        using var sessionOptions = new SessionOptions();

        var error = Assert.Throws<InvalidOperationException>(
            () => new ExecutionProviderSelector(CudaLibrariesMissing).Configure(sessionOptions, InferenceDevice.Cuda, deviceId: 1));

        Assert.Contains("Inference:Device", error.Message);
        Assert.Contains("device 1", error.Message);
    }

    [Fact]
    public void Auto_and_cuda_use_cuda_when_it_loads()
    {
        using var sessionOptions = new SessionOptions();
        var appendedDevices = new List<int>();
        var selector = new ExecutionProviderSelector((_, deviceId) => appendedDevices.Add(deviceId));

        Assert.Equal(new ExecutionProviderChoice(ExecutionProviderNames.Cuda, null), selector.Configure(sessionOptions, InferenceDevice.Auto, 0));
        Assert.Equal(new ExecutionProviderChoice(ExecutionProviderNames.Cuda, null), selector.Configure(sessionOptions, InferenceDevice.Cuda, 2));
        Assert.Equal([0, 2], appendedDevices);
    }

    [Fact]
    public void Cpu_never_tries_cuda()
    {
        using var sessionOptions = new SessionOptions();
        var selector = new ExecutionProviderSelector((_, _) => throw new InvalidOperationException("must not be called"));

        Assert.Equal(new ExecutionProviderChoice(ExecutionProviderNames.Cpu, null), selector.Configure(sessionOptions, InferenceDevice.Cpu, 0));
    }

    [Fact]
    public void Unexpected_failures_are_not_mistaken_for_missing_cuda()
    {
        // Only "CUDA cannot load" means fall back; a bug elsewhere must surface.
        using var sessionOptions = new SessionOptions();
        var selector = new ExecutionProviderSelector((_, _) => throw new NullReferenceException());

        Assert.Throws<NullReferenceException>(() => selector.Configure(sessionOptions, InferenceDevice.Auto, 0));
    }

    [Fact]
    public void The_real_cuda_provider_falls_back_or_fails_exactly_when_the_cuda_runtime_is_missing()
    {
        // The GPU package's CUDA provider needs CUDA 13 (libcudart.so.13) and cuDNN 9. Build machines have
        // neither, so Auto must land on CPU with a reason and Cuda must fail; on a GPU node both must pick CUDA.
        var cudaRuntimeLoads = NativeLibrary.TryLoad("libcudart.so.13", out var handle);
        if (cudaRuntimeLoads)
        {
            NativeLibrary.Free(handle);
        }

        var selector = new ExecutionProviderSelector();
        using var autoOptions = new SessionOptions();
        using var cudaOptions = new SessionOptions();

        var auto = selector.Configure(autoOptions, InferenceDevice.Auto, 0);

        if (cudaRuntimeLoads)
        {
            Assert.Equal(ExecutionProviderNames.Cuda, auto.Provider);
            Assert.Equal(ExecutionProviderNames.Cuda, selector.Configure(cudaOptions, InferenceDevice.Cuda, 0).Provider);
        }
        else
        {
            Assert.Equal(ExecutionProviderNames.Cpu, auto.Provider);
            Assert.False(string.IsNullOrWhiteSpace(auto.FallbackReason));
            Assert.Throws<InvalidOperationException>(() => selector.Configure(cudaOptions, InferenceDevice.Cuda, 0));
        }
    }

    [Fact]
    public void Cuda_is_configured_with_the_device_and_the_chosen_cudnn_algorithm_search()
    {
        using var sessionOptions = new SessionOptions();
        IReadOnlyDictionary<string, string>? appended = null;
        var selector = ExecutionProviderSelector.WithCudaOptions((_, providerOptions) => appended = providerOptions);

        var choice = selector.Configure(sessionOptions, new InferenceOptions { Device = InferenceDevice.Cuda, DeviceId = 3 });

        Assert.Equal(ExecutionProviderNames.Cuda, choice.Provider);
        Assert.NotNull(appended);
        Assert.Equal("3", appended["device_id"]);
        Assert.Equal("EXHAUSTIVE", appended["cudnn_conv_algo_search"]);
        Assert.Equal("1", appended["cudnn_conv_use_max_workspace"]);
    }

    [Theory]
    [InlineData(CudnnConvAlgoSearch.Exhaustive, "EXHAUSTIVE")]
    [InlineData(CudnnConvAlgoSearch.Heuristic, "HEURISTIC")]
    [InlineData(CudnnConvAlgoSearch.Default, "DEFAULT")]
    public void Every_cudnn_search_setting_maps_to_the_providers_value(CudnnConvAlgoSearch search, string expected)
    {
        var providerOptions = ExecutionProviderSelector.CudaProviderOptions(new InferenceOptions { CudnnConvAlgoSearch = search });

        Assert.Equal(expected, providerOptions["cudnn_conv_algo_search"]);
    }

    [Fact]
    public void Auto_with_tuned_cuda_options_still_falls_back_to_cpu_when_cuda_cannot_load()
    {
        using var sessionOptions = new SessionOptions();
        var selector = ExecutionProviderSelector.WithCudaOptions((_, _) => throw NativeFailure);

        var choice = selector.Configure(sessionOptions, new InferenceOptions { Device = InferenceDevice.Auto, DeviceId = 1, CudnnConvAlgoSearch = CudnnConvAlgoSearch.Heuristic });

        Assert.Equal(ExecutionProviderNames.Cpu, choice.Provider);
        Assert.Contains("device 1", choice.FallbackReason);
    }

    [Fact]
    public void A_session_falls_back_to_cpu_batches_when_auto_cannot_load_cuda()
    {
        using var directory = new TemporaryDirectory();
        var path = new TinyOnnxModel().WriteTo(directory.Path);
        var selector = ExecutionProviderSelector.WithCudaOptions((_, _) => throw NativeFailure);

        using var session = ModelSession.Open(path, new InferenceOptions { Device = InferenceDevice.Auto, IntraOpThreads = 1 }, selector);
        var batch = session.RentBatch(2);
        session.Run(batch);

        Assert.Equal(ExecutionProviderNames.Cpu, session.ExecutionProvider);
        Assert.NotNull(session.Provider.FallbackReason);
        Assert.Equal(1f, batch.Probabilities(0).ToArray().Sum(), 1e-5);
    }

    private static OnnxRuntimeException CaptureNativeFailure()
    {
        try
        {
            using var session = new InferenceSession(new byte[] { 1, 2, 3 });
        }
        catch (OnnxRuntimeException exception)
        {
            return exception;
        }

        throw new InvalidOperationException("ONNX Runtime accepted a 3-byte model");
    }
}
