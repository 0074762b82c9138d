using BenchmarkDotNet.Attributes;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EfficientNet.Batch.Benchmarks;

/// <summary>
/// b0 (224 px, random weights, seed 0) built with BatchNorm folded into the convs at build time versus written as
/// BatchNormalization nodes (<see cref="OnnxBuildOptions.FoldBatchNorm"/>), each loaded with ORT_ENABLE_ALL (ORT
/// fuses Conv+BN itself at load) and ORT_DISABLE_ALL (the raw graph): session creation from the in-memory model and
/// inference of one batch of 16 on the CPU execution provider (default intra-op threads). The .onnx sizes are
/// written to the log by the global setup.
/// </summary>
[MemoryDiagnoser]
public class BatchNormFoldingBenchmarks
{
    private const string ModelId = "efficientnet_b0";
    private const int BatchSize = 16;

    private byte[] _model = [];
    private InferenceSession? _session;
    private NamedOnnxValue[] _inputs = [];

    [Params(true, false)]
    public bool Folded { get; set; }

    [Params(GraphOptimizationLevel.ORT_ENABLE_ALL, GraphOptimizationLevel.ORT_DISABLE_ALL)]
    public GraphOptimizationLevel Optimisation { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var variant = ModelCatalogue.Get(ModelId);
        var model = EfficientNetOnnxBuilder.Build(
            variant, RandomWeights.Generate(variant.Architecture, 0), new Dictionary<string, string>(), new OnnxBuildOptions { FoldBatchNorm = Folded });
        _model = EfficientNetOnnxBuilder.ToBytes(model);
        Console.WriteLine($"// {ModelId} Folded={Folded}: .onnx {_model.Length} bytes, "
            + $"{model.Graph.Node.Count} nodes, {model.Graph.Initializer.Count} initializers");

        _session = NewSession();
        var r = variant.Resolution;
        var input = new DenseTensor<float>([BatchSize, 3, r, r]);
        var random = new SplitMix64(1);
        var buffer = input.Buffer.Span;
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (float)random.NextNormalish();
        }

        _inputs = [NamedOnnxValue.CreateFromTensor(EfficientNetOnnxBuilder.InputName, input)];
    }

    [GlobalCleanup]
    public void Cleanup() => _session?.Dispose();

    /// <summary>Load time: parse, graph optimisation (fusions at ENABLE_ALL) and kernel preparation.</summary>
    [Benchmark]
    public int CreateSession()
    {
        using var session = NewSession();
        return session.InputMetadata.Count;
    }

    /// <summary>One batch of 16; the Mean is per image (OperationsPerInvoke), so images/s = 1 s / Mean.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public float Infer()
    {
        using var results = _session!.Run(_inputs);
        return results[0].AsTensor<float>()[0, 0];
    }

    private InferenceSession NewSession()
    {
        using var options = new SessionOptions { GraphOptimizationLevel = Optimisation };
        return new InferenceSession(_model, options);
    }
}
