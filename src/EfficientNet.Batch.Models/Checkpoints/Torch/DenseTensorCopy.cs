namespace EfficientNet.Batch.Models.Checkpoints.Torch;

/// <summary>Turns a (size, stride, offset) view of a float32 storage into a dense row-major array.</summary>
internal static class DenseTensorCopy
{
    /// <remarks>Bounds were checked when the <see cref="TensorReference"/> was built against the declared storage length,
    /// and the storage array is checked to have that length before this runs.</remarks>
    public static float[] ToDense(ReadOnlySpan<float> storage, TensorReference tensor)
    {
        var result = new float[tensor.ElementCount];
        if (result.Length == 0)
        {
            return result;
        }

        if (tensor.IsContiguous)
        {
            storage.Slice(checked((int)tensor.StorageOffset), result.Length).CopyTo(result);
            return result;
        }

        // Odometer over all dimensions but the last; the last one is the inner loop.
        var size = tensor.Size;
        var stride = tensor.Stride;
        var rank = size.Length;
        var innerCount = size[rank - 1];
        var innerStride = stride[rank - 1];
        var index = new long[rank - 1];
        var rowStart = tensor.StorageOffset;
        var written = 0;
        while (true)
        {
            if (innerStride == 1)
            {
                storage.Slice((int)rowStart, (int)innerCount).CopyTo(result.AsSpan(written));
                written += (int)innerCount;
            }
            else
            {
                var position = rowStart;
                for (var i = 0; i < innerCount; i++, position += innerStride)
                {
                    result[written++] = storage[(int)position];
                }
            }

            var d = rank - 2;
            for (; d >= 0; d--)
            {
                rowStart += stride[d];
                if (++index[d] < size[d])
                {
                    break;
                }

                rowStart -= stride[d] * size[d];
                index[d] = 0;
            }

            if (d < 0)
            {
                return result;
            }
        }
    }
}
