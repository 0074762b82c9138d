using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// Loads the native code a classification starts with — ONNX Runtime's library and environment, OpenSSL (a stored model
/// is checked against its SHA-256 before its session opens) and libjpeg-turbo — on a thread-pool thread. A short-lived
/// process (<c>effnet run</c>) calls it first, so that the loading overlaps its host's set-up on another core instead of
/// coming after it on the way to the first batch (docs/benchmarks.md, *Start-up*). Call it after
/// <see cref="OnnxRuntimeTelemetry.OptOut"/>: ONNX Runtime reads its environment when it initialises.
/// </summary>
public static class NativeLibraryPreload
{
    /// <summary>Starts the loading and returns at once. Never faults: a library that fails to load fails again, with
    /// its message, where it is used.</summary>
    public static Task Start() => Task.Run(Load);

    private static void Load()
    {
        try
        {
            _ = OrtEnv.Instance();
            _ = SHA256.HashData(ReadOnlySpan<byte>.Empty);
            _ = TurboJpegLibrary.IsAvailable;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Reported by the code that needs the library.
        }
    }
}
