namespace EfficientNet.Batch.Models.Checkpoints.Torch;

/// <summary>What an allow-listed global stands for. The unpickler maps calls on these to inert records.</summary>
internal enum TorchGlobalKind
{
    OrderedDict,
    RebuildTensorV2,
    RebuildParameter,
    StorageType,
}

/// <summary>An allow-listed global as it appears on the pickle stack.</summary>
internal sealed record TorchGlobal(string Module, string Name, TorchGlobalKind Kind, CheckpointElementType? StorageElementType = null)
{
    public string QualifiedName => $"{Module}.{Name}";
}

/// <summary>The complete allow-list. A global not listed here is refused with <see cref="UnsafeCheckpointException"/>
/// the moment the GLOBAL opcode is read. Storage classes are only markers in persistent ids: they are never called.</summary>
internal static class TorchGlobals
{
    private static readonly Dictionary<string, TorchGlobal> AllowedByQualifiedName = Build();

    public static TorchGlobal Resolve(string module, string name, long pickleOffset) =>
        AllowedByQualifiedName.TryGetValue($"{module}.{name}", out var allowed)
            ? allowed
            : throw new UnsafeCheckpointException($"{module}.{name}", pickleOffset);

    private static Dictionary<string, TorchGlobal> Build()
    {
        var globals = new List<TorchGlobal>
        {
            new("collections", "OrderedDict", TorchGlobalKind.OrderedDict),
            new("torch._utils", "_rebuild_tensor_v2", TorchGlobalKind.RebuildTensorV2),
            new("torch._utils", "_rebuild_parameter", TorchGlobalKind.RebuildParameter),
        };
        (string Class, CheckpointElementType Type)[] storages =
        [
            ("FloatStorage", CheckpointElementType.Float32),
            ("DoubleStorage", CheckpointElementType.Float64),
            ("HalfStorage", CheckpointElementType.Float16),
            ("BFloat16Storage", CheckpointElementType.BFloat16),
            ("LongStorage", CheckpointElementType.Int64),
            ("IntStorage", CheckpointElementType.Int32),
            ("ShortStorage", CheckpointElementType.Int16),
            ("CharStorage", CheckpointElementType.Int8),
            ("ByteStorage", CheckpointElementType.UInt8),
            ("BoolStorage", CheckpointElementType.Bool),
        ];
        globals.AddRange(storages.Select(s => new TorchGlobal("torch", s.Class, TorchGlobalKind.StorageType, s.Type)));
        return globals.ToDictionary(g => g.QualifiedName, StringComparer.Ordinal);
    }

    public static int ElementSize(CheckpointElementType type) => type switch
    {
        CheckpointElementType.Float64 or CheckpointElementType.Int64 => 8,
        CheckpointElementType.Float32 or CheckpointElementType.Int32 => 4,
        CheckpointElementType.Float16 or CheckpointElementType.BFloat16 or CheckpointElementType.Int16 => 2,
        _ => 1,
    };

    public static bool IsFloatingPoint(CheckpointElementType type) =>
        type is CheckpointElementType.Float32 or CheckpointElementType.Float64 or CheckpointElementType.Float16 or CheckpointElementType.BFloat16;
}
