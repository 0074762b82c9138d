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

    public static bool ExistsUnder(string home) => Directory.Exists(Path.Combine(home, ".cache", "Microsoft", "DeveloperTools", ".onnxruntime"));
}
