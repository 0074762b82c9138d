using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Inference;

/// <summary>
/// A fixed-shape input tensor [Capacity, 3, R, R] and its output [Capacity, classes], allocated once and reused:
/// preprocessing writes each image straight into its slot, inference reads the whole tensor in place. Rent one from
/// <see cref="ModelSession.RentBatch"/>; it is not thread-safe per slot beyond "one writer per slot".
/// </summary>
public sealed unsafe class InferenceBatch : IDisposable
{
    private readonly float* _input;
    private readonly float* _output;

    internal InferenceBatch(int capacity, int imageLength, int classCount, OrtValue input, OrtValue output, OrtIoBinding? binding)
    {
        Capacity = capacity;
        ImageLength = imageLength;
        ClassCount = classCount;
        Inputs = [input];
        Outputs = [output];
        Binding = binding;
        RunOptions = new RunOptions();
        // The tensors' memory never moves (native allocations), so the pointers stay valid for the batch's lifetime.
        var inputSpan = input.GetTensorMutableDataAsSpan<float>();
        var outputSpan = output.GetTensorMutableDataAsSpan<float>();
        fixed (float* inputPointer = inputSpan)
        fixed (float* outputPointer = outputSpan)
        {
            _input = inputPointer;
            _output = outputPointer;
        }

        // Padding slots are run too: start from zeros, never from uninitialised memory (NaN, denormals).
        inputSpan.Clear();
    }

    /// <summary>Images per run (the fixed batch size).</summary>
    public int Capacity { get; }

    /// <summary>Floats per image: 3 · R · R.</summary>
    public int ImageLength { get; }

    public int ClassCount { get; }

    internal OrtValue[] Inputs { get; }

    internal OrtValue[] Outputs { get; }

    internal OrtIoBinding? Binding { get; }

    internal RunOptions RunOptions { get; }

    /// <summary>The whole input tensor, images one after another (CHW each).</summary>
    public Span<float> Input => new(_input, checked(Capacity * ImageLength));

    /// <summary>Where image <paramref name="slot"/> is written: 3 · R · R floats.</summary>
    public Span<float> Image(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, Capacity);
        return new Span<float>(_input + ((long)slot * ImageLength), ImageLength);
    }

    /// <summary>Class probabilities of image <paramref name="slot"/> after a run.</summary>
    public ReadOnlySpan<float> Probabilities(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, Capacity);
        return new ReadOnlySpan<float>(_output + ((long)slot * ClassCount), ClassCount);
    }

    public void Dispose()
    {
        Binding?.Dispose();
        RunOptions.Dispose();
        Inputs[0].Dispose();
        Outputs[0].Dispose();
    }
}
