using EfficientNet.Batch.Models.Checkpoints.Pickle;
using EfficientNet.Batch.Models.Checkpoints.Torch;

namespace EfficientNet.Batch.Models.Checkpoints;

/// <summary>Finds the state dict in an unpickled checkpoint and turns its tensor references into dense float32 tensors.
/// Format-independent: the zip and legacy readers differ only in where storage bytes come from.</summary>
internal sealed class StateDictAssembler
{
    private const string WrapperKeyName = "state_dict";
    private const string NumBatchesTrackedSuffix = "num_batches_tracked";

    private StateDictAssembler(string? wrapperKey, List<KeyValuePair<string, TensorReference>> tensors, List<string> skippedKeys)
    {
        WrapperKey = wrapperKey;
        Tensors = tensors;
        SkippedKeys = skippedKeys;
    }

    public string? WrapperKey { get; }

    /// <summary>The float tensors to import, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, TensorReference>> Tensors { get; }

    public IReadOnlyList<string> SkippedKeys { get; }

    /// <summary>Distinct storages the kept tensors need, by key.</summary>
    public IReadOnlyDictionary<string, StorageReference> NeededStorages =>
        Tensors.Select(t => t.Value.Storage).DistinctBy(s => s.Key).ToDictionary(s => s.Key);

    /// <summary>Accepts a flat state dict (every value a tensor) or a dict with a 'state_dict' entry (mmcv's wrapper,
    /// next to 'meta', 'optimizer', ...). Decides which tensors are kept before any storage is read.</summary>
    public static StateDictAssembler Select(object? root, CheckpointReaderOptions options)
    {
        if (root is not PickleDict rootDict)
        {
            throw new CheckpointFormatException($"The checkpoint holds {PickleValueNames.Describe(root)}, not a dict of tensors.");
        }

        string? wrapperKey = null;
        var stateDict = rootDict;
        if (rootDict.TryGetValue(WrapperKeyName, out var wrapped))
        {
            stateDict = wrapped as PickleDict
                ?? throw new CheckpointFormatException($"The checkpoint's '{WrapperKeyName}' entry is {PickleValueNames.Describe(wrapped)}, not a dict of tensors.");
            wrapperKey = WrapperKeyName;
        }
        else if (rootDict.Entries.Any(e => e.Value is not TensorReference))
        {
            var keys = string.Join(", ", rootDict.Keys.Take(10).Select(k => k is string s ? $"'{s}'" : PickleValueNames.Describe(k)));
            throw new CheckpointFormatException(
                $"The checkpoint is neither a flat state dict (all values tensors) nor wrapped in '{WrapperKeyName}'; its top-level keys are {keys}.");
        }

        var tensors = new List<KeyValuePair<string, TensorReference>>();
        var skipped = new List<string>();
        foreach (var (key, value) in stateDict.Entries)
        {
            if (key is not string name)
            {
                throw new CheckpointFormatException($"State dict key {PickleValueNames.Describe(key)} is not a string.");
            }

            if (value is not TensorReference tensor)
            {
                throw new CheckpointFormatException($"State dict entry '{name}' is {PickleValueNames.Describe(value)}, not a tensor.");
            }

            var type = tensor.Storage.ElementType;
            if (type == CheckpointElementType.Int64 && (name == NumBatchesTrackedSuffix || name.EndsWith("." + NumBatchesTrackedSuffix, StringComparison.Ordinal)))
            {
                // BN step counters: only used for training-time momentum, meaningless for inference.
                skipped.Add(name);
            }
            else if (!TorchGlobals.IsFloatingPoint(type))
            {
                throw new CheckpointFormatException(
                    $"State dict entry '{name}' is a {type} tensor {tensor.SizeText}; only floating-point parameters (and int64 num_batches_tracked) are accepted.");
            }
            else
            {
                tensors.Add(new(name, tensor));
            }
        }

        if (tensors.Count == 0)
        {
            throw new CheckpointFormatException("The checkpoint's state dict contains no float tensors.");
        }

        var selection = new StateDictAssembler(wrapperKey, tensors, skipped);
        var totalBytes = selection.NeededStorages.Values.Sum(s => s.ByteCount);
        if (totalBytes > options.MaxTotalStorageBytes)
        {
            throw new CheckpointFormatException(
                $"The state dict declares {totalBytes} bytes of storage, more than the {options.MaxTotalStorageBytes} allowed (CheckpointReaderOptions.MaxTotalStorageBytes).");
        }

        return selection;
    }

    /// <summary>Materialises every kept tensor. <paramref name="loadStorage"/> is called once per storage; a storage is
    /// dropped after its last tensor, and handed out without copying when one tensor covers all of it.</summary>
    public (StateDict StateDict, Dictionary<string, CheckpointElementType> ConvertedKeys) Build(Func<StorageReference, float[]> loadStorage)
    {
        var remainingUses = Tensors.GroupBy(t => t.Value.Storage.Key).ToDictionary(g => g.Key, g => g.Count());
        var loaded = new Dictionary<string, float[]>();
        var stateDict = new StateDict();
        var converted = new Dictionary<string, CheckpointElementType>(StringComparer.Ordinal);
        foreach (var (key, tensor) in Tensors)
        {
            var storage = tensor.Storage;
            if (!loaded.TryGetValue(storage.Key, out var values))
            {
                values = loadStorage(storage);
                if (values.LongLength != storage.ElementCount)
                {
                    throw new CheckpointFormatException($"Storage '{storage.Key}' has {values.LongLength} elements, the pickle declares {storage.ElementCount}.");
                }

                loaded[storage.Key] = values;
            }

            var lastUse = --remainingUses[storage.Key] == 0;
            var coversWholeStorage = tensor.IsContiguous && tensor.StorageOffset == 0 && tensor.ElementCount == values.LongLength;
            // Aliasing the storage array is safe only for its last user: tied weights must not share one mutable array.
            var data = lastUse && coversWholeStorage ? values : DenseTensorCopy.ToDense(values, tensor);
            if (lastUse)
            {
                loaded.Remove(storage.Key);
            }

            stateDict[key] = new TensorData(tensor.Size.Select(d => (int)d).ToArray(), data);
            if (storage.ElementType != CheckpointElementType.Float32)
            {
                converted[key] = storage.ElementType;
            }
        }

        return (stateDict, converted);
    }
}
