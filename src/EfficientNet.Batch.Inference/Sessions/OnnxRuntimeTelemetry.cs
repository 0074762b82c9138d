using System.Runtime.InteropServices;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// ONNX Runtime's official Linux builds (1.29 and later, so the 1.31.0 we ship) collect usage telemetry and send it to
/// Microsoft: a device id and an offline event cache under <c>~/.cache/Microsoft/DeveloperTools/.onnxruntime</c>, and
/// events about each session (model file name and hashes, execution providers, errors, run aggregates). Unless a CI
/// variable is set, only <c>ORT_DISABLE_TELEMETRY=1</c>, set before the runtime initialises, turns all of it off. Our
/// hosts load customers' models to label customers' data, often without internet access: each opts out at start unless
/// the operator set the variable already (to 0, to keep ONNX Runtime's telemetry).
/// </summary>
public static partial class OnnxRuntimeTelemetry
{
    public const string Variable = "ORT_DISABLE_TELEMETRY";

    /// <summary>Sets <see cref="Variable"/> to 1 in the process's environment, the native one included (where ONNX
    /// Runtime reads it; <see cref="Environment.SetEnvironmentVariable(string, string)"/> alone does not reach it on
    /// Unix), unless the operator set it to a value (an empty one counts as unset). Call it first thing in <c>Main</c>,
    /// before any thread reads the environment and before ONNX Runtime is loaded. Returns false when the operator's
    /// value is <c>0</c> or the variable could not be set.</summary>
    public static bool OptOut()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } chosen)
        {
            return chosen != "0";
        }

        if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && SetNative(Variable, "1", 1) != 0)
        {
            return false;
        }

        Environment.SetEnvironmentVariable(Variable, "1");
        return true;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNative(string name, string value, int overwrite);
}
