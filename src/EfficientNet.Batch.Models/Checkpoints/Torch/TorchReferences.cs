using EfficientNet.Batch.Models.Checkpoints.Pickle;

namespace EfficientNet.Batch.Models.Checkpoints.Torch;

/// <summary>A storage named by a persistent id: <c>('storage', torch.FloatStorage, key, location, numel)</c> in zip
/// files, with a sixth <c>view_metadata</c> (None) in legacy files. The bytes live outside the pickle.</summary>
internal sealed record StorageReference(CheckpointElementType ElementType, string Key, string Location, long ElementCount)
{
    public int ElementSize => TorchGlobals.ElementSize(ElementType);

    public long ByteCount => ElementCount * ElementSize;

    public static StorageReference FromPersistentId(object? persistentId, long pickleOffset)
    {
        if (persistentId is not PickleTuple { Count: 5 or 6 } id || id[0] is not "storage")
        {
            throw new CheckpointFormatException(
                $"Pickle offset {pickleOffset}: persistent id {PickleValueNames.Describe(persistentId)} is not a torch storage reference ('storage', type, key, location, numel).");
        }

        if (id[1] is not TorchGlobal { Kind: TorchGlobalKind.StorageType, StorageElementType: { } elementType })
        {
            throw new CheckpointFormatException($"Pickle offset {pickleOffset}: storage reference names {PickleValueNames.Describe(id[1])}, not a torch storage type.");
        }

        if (id[2] is not string key || id[3] is not string location || id[4] is not long elementCount || elementCount < 0)
        {
            throw new CheckpointFormatException($"Pickle offset {pickleOffset}: storage reference fields must be (str key, str location, int numel ≥ 0).");
        }

        if (id.Count == 6 && id[5] is not null)
        {
            // Only PyTorch < 0.4 wrote storage views; no EfficientNet checkpoint is that old.
            throw new CheckpointFormatException($"Pickle offset {pickleOffset}: storage '{key}' is a legacy storage view (PyTorch < 0.4), which is not supported.");
        }

        return new StorageReference(elementType, key, location, elementCount);
    }
}

/// <summary>A tensor as described by <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
/// hooks[, metadata])</c>. Construction checks that every element it addresses lies inside the storage.</summary>
internal sealed class TensorReference
{
    // PyTorch itself caps tensors at 64 dimensions.
    private const int MaxRank = 64;

    private TensorReference(StorageReference storage, long storageOffset, long[] size, long[] stride, long elementCount)
    {
        Storage = storage;
        StorageOffset = storageOffset;
        Size = size;
        Stride = stride;
        ElementCount = elementCount;
    }

    public StorageReference Storage { get; }

    public long StorageOffset { get; }

    public long[] Size { get; }

    public long[] Stride { get; }

    public long ElementCount { get; }

    public string SizeText => $"[{string.Join(", ", Size)}]";

    /// <summary>Row-major contiguous from <see cref="StorageOffset"/> on; strides of size-1 dimensions do not matter
    /// (the converter's [C,1,k,k] depthwise views with stride C·k² on the 1-dimension are contiguous).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (var d = Size.Length - 1; d >= 0; d--)
            {
                if (Size[d] != 1 && Stride[d] != expected)
                {
                    return false;
                }

                expected *= Size[d];
            }

            return true;
        }
    }

    public static TensorReference FromRebuildArguments(object? arguments, long pickleOffset)
    {
        if (arguments is not PickleTuple { Count: 6 or 7 } args)
        {
            throw Error(pickleOffset, $"_rebuild_tensor_v2 takes 6 or 7 arguments, got {PickleValueNames.Describe(arguments)}.");
        }

        if (args[0] is not StorageReference storage)
        {
            throw Error(pickleOffset, $"_rebuild_tensor_v2 needs a storage first, got {PickleValueNames.Describe(args[0])}.");
        }

        if (args[1] is not long storageOffset || storageOffset < 0)
        {
            throw Error(pickleOffset, "_rebuild_tensor_v2 storage offset must be an int ≥ 0.");
        }

        var size = ReadDimensions(args[2], "size", pickleOffset);
        var stride = ReadDimensions(args[3], "stride", pickleOffset);
        if (size.Any(d => d > int.MaxValue))
        {
            throw Error(pickleOffset, $"tensor size [{string.Join(", ", size)}] has a dimension beyond int range.");
        }

        if (size.Length != stride.Length)
        {
            throw Error(pickleOffset, $"size has {size.Length} dimensions but stride has {stride.Length}.");
        }

        if (args[4] is not bool || args[5] is not PickleDict || (args.Count == 7 && args[6] is not (null or PickleDict)))
        {
            throw Error(pickleOffset, "_rebuild_tensor_v2 expects (…, bool requires_grad, OrderedDict hooks[, metadata]).");
        }

        long elementCount = 1;
        long lastElement = storageOffset;
        try
        {
            for (var d = 0; d < size.Length; d++)
            {
                elementCount = checked(elementCount * size[d]);
                if (size[d] > 0)
                {
                    lastElement = checked(lastElement + (checked((size[d] - 1) * stride[d])));
                }
            }
        }
        catch (OverflowException)
        {
            throw Error(pickleOffset, $"tensor of size [{string.Join(", ", size)}] and stride [{string.Join(", ", stride)}] overflows 64-bit indexing.");
        }

        if (elementCount > Array.MaxLength)
        {
            throw Error(pickleOffset, $"tensor of size [{string.Join(", ", size)}] has {elementCount} elements, more than one array can hold.");
        }

        if (elementCount > 0 && lastElement >= storage.ElementCount)
        {
            throw Error(pickleOffset,
                $"tensor of size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}] at offset {storageOffset} reaches element {lastElement} "
                + $"of storage '{storage.Key}', which holds {storage.ElementCount}.");
        }

        return new TensorReference(storage, storageOffset, size, stride, elementCount);
    }

    private static long[] ReadDimensions(object? value, string what, long pickleOffset)
    {
        if (value is not PickleTuple { Count: <= MaxRank } tuple)
        {
            throw Error(pickleOffset, $"tensor {what} must be a tuple of at most {MaxRank} ints, got {PickleValueNames.Describe(value)}.");
        }

        var dimensions = new long[tuple.Count];
        for (var i = 0; i < dimensions.Length; i++)
        {
            // Negative strides do not exist in PyTorch; negative sizes are corrupt.
            dimensions[i] = tuple[i] is long v && v >= 0 ? v : throw Error(pickleOffset, $"tensor {what} entries must be ints ≥ 0.");
        }

        return dimensions;
    }

    private static CheckpointFormatException Error(long pickleOffset, string message) => new($"Pickle offset {pickleOffset}: {message}");
}
