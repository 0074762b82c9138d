using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class NativeLibraryPreloadTests
{
    [Fact]
    public async Task Preloading_leaves_onnx_runtime_and_libjpeg_turbo_loaded_and_does_not_fault()
    {
        var preload = NativeLibraryPreload.Start();

        await preload.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(preload.IsCompletedSuccessfully);
        Assert.True(OrtEnv.IsCreated);
        Assert.True(TurboJpegLibrary.IsAvailable, TurboJpegLibrary.LoadError);
    }
}
