namespace EfficientNet.Batch.Models.Checkpoints;

/// <summary>The file cannot be imported as a PyTorch checkpoint: truncated, corrupt, an unsupported layout, or a
/// state dict holding something other than float parameters. The message names the entry or offset at fault.</summary>
public class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string message)
        : base(message)
    {
    }

    public CheckpointFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The pickle refers to a Python global outside the allow-list (for example <c>posix.system</c>). It is
/// refused when the reference is read, so nothing the file asks for is ever called.</summary>
public sealed class UnsafeCheckpointException : CheckpointFormatException
{
    public UnsafeCheckpointException(string globalName, long pickleOffset)
        : base($"Refused checkpoint: its pickle references the global '{globalName}' (at pickle offset {pickleOffset}), "
            + "which is not on the allow-list (collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
            + "torch._utils._rebuild_parameter, torch.*Storage). Checkpoints that need other globals can run code when loaded.")
    {
        GlobalName = globalName;
    }

    /// <summary>The refused global as <c>module.name</c>, e.g. <c>posix.system</c>.</summary>
    public string GlobalName { get; }
}
