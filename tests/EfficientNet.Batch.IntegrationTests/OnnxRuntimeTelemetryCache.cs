using EfficientNet.Batch.Inference;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>What tells whether ONNX Runtime's own telemetry ran in a process: its Linux builds keep a device id and an
/// event cache under <c>$HOME/.cache</c> before they send anything, and stay quiet on their own under a CI variable
/// (the names below are those the library's strings list).</summary>
internal static class OnnxRuntimeTelemetryCache
{
    public static readonly string[] QuieteningVariables =
    [
        "CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "CODEBUILD_BUILD_ID", "BUILDKITE",
        "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "ORT_RUNNING_UNIT_TESTS",
    ];

    /// <summary>A child's environment in which ONNX Runtime's telemetry is up to the process itself: a HOME of its own, no
    /// CI variable, and no <see cref="OnnxRuntimeTelemetry.Variable"/> unless <paramref name="variable"/> is given.</summary>
    public static Dictionary<string, string> Environment(string home, string? variable = null)
    {
        var environment = QuieteningVariables.ToDictionary(name => name, _ => ChildEnvironment.Unset);
        environment[OnnxRuntimeTelemetry.Variable] = variable ?? ChildEnvironment.Unset;
        environment["HOME"] = home;
        return environment;
    }

    public static bool ExistsUnder(string home) => Directory.Exists(Path.Combine(home, ".cache", "Microsoft", "DeveloperTools", ".onnxruntime"));
}
