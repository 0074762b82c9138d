namespace EfficientNet.Batch.Components.Security;

/// <summary>A worker refused a shard whose locations its policy does not allow. Retrying cannot change the answer, so
/// the shard faults at once and the coordinator reports its images as failed with this message.</summary>
public sealed class LocationRefusedException(string message) : Exception(message);
