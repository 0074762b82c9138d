namespace EfficientNet.Batch.Contracts;

/// <summary>Names of the project's meter and activity source, shared by the code that emits and the hosts that
/// export them.</summary>
public static class TelemetryNames
{
    public const string Meter = "EfficientNet.Batch";

    public const string ActivitySource = "EfficientNet.Batch";
}
