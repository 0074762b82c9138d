using EfficientNet.Batch.Models.Onnx;
using Google.Protobuf;

namespace EfficientNet.Batch.Inference.Tests;

public sealed class ModelSessionTests : IDisposable
{
    private static readonly InferenceOptions CpuOptions = new() { Device = InferenceDevice.Cpu, IntraOpThreads = 1 };
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Reads_resolution_class_count_and_provider_from_the_model()
    {
        var model = new TinyOnnxModel(resolution: 4, classCount: 5);

        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());

        Assert.Equal(4, session.Resolution);
        Assert.Equal(5, session.ClassCount);
        Assert.Equal(48, session.ImageLength);
        Assert.Equal(ExecutionProviderNames.Cpu, session.ExecutionProvider);
    }

    [Fact]
    public void Probabilities_match_a_hand_computation_for_every_image_of_a_batch()
    {
        var model = new TinyOnnxModel(resolution: 4, classCount: 5);
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());
        const int Count = 3;
        var random = new Random(42);
        var batch = Enumerable.Range(0, Count * session.ImageLength).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
        var probabilities = new float[Count * session.ClassCount];

        session.Run(batch, Count, probabilities);

        for (var image = 0; image < Count; image++)
        {
            var expected = model.Expected(batch.AsSpan(image * session.ImageLength, session.ImageLength));
            for (var k = 0; k < session.ClassCount; k++)
            {
                Assert.Equal(expected[k], probabilities[(image * session.ClassCount) + k], 1e-5);
            }
        }
    }

    [Fact]
    public void A_partial_batch_uses_only_the_first_images_and_leaves_the_rest_of_the_output_alone()
    {
        var model = new TinyOnnxModel();
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());
        var batch = new float[4 * session.ImageLength];
        batch.AsSpan(0, session.ImageLength).Fill(1f);
        var probabilities = Enumerable.Repeat(-1f, 4 * session.ClassCount).ToArray();

        session.Run(batch, count: 1, probabilities);

        Assert.Equal(1.0, probabilities.Take(session.ClassCount).Sum(), 1e-5);
        Assert.All(probabilities.Skip(session.ClassCount), value => Assert.Equal(-1f, value));
    }

    [Fact]
    public void Concurrent_runs_on_one_session_give_the_same_answers()
    {
        var model = new TinyOnnxModel();
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());

        Parallel.For(0, 32, i =>
        {
            var image = Enumerable.Repeat(i / 10f, session.ImageLength).ToArray();
            var probabilities = new float[session.ClassCount];
            session.Run(image, 1, probabilities);
            var expected = model.Expected(image);
            for (var k = 0; k < session.ClassCount; k++)
            {
                Assert.Equal(expected[k], probabilities[k], 1e-5);
            }
        });
    }

    [Fact]
    public void Buffers_too_small_for_the_batch_are_rejected()
    {
        using var session = ModelSession.Open(new TinyOnnxModel().WriteTo(_directory.Path), CpuOptions, new ExecutionProviderSelector());

        Assert.Throws<ArgumentException>(() => session.Run(new float[(2 * session.ImageLength) - 1], 2, new float[2 * session.ClassCount]));
        Assert.Throws<ArgumentException>(() => session.Run(new float[2 * session.ImageLength], 2, new float[session.ClassCount]));
    }

    [Fact]
    public void A_model_without_the_expected_input_name_is_rejected_with_the_names_it_has()
    {
        var path = new TinyOnnxModel(inputName: "data").WriteTo(_directory.Path);

        var error = Assert.Throws<InvalidDataException>(() => ModelSession.Open(path, CpuOptions, new ExecutionProviderSelector()));

        Assert.Contains("'input'", error.Message);
        Assert.Contains("data", error.Message);
    }

    [Fact]
    public void A_missing_model_file_is_reported_with_its_path()
    {
        var path = Path.Combine(_directory.Path, "missing.onnx");

        var error = Assert.Throws<FileNotFoundException>(() => ModelSession.Open(path, CpuOptions, new ExecutionProviderSelector()));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_float16_session_gives_the_float32_answers_to_float16_precision()
    {
        var model = new TinyOnnxModel(resolution: 4, classCount: 5);
        var options = new InferenceOptions { Device = InferenceDevice.Cpu, IntraOpThreads = 1, Precision = InferencePrecision.Float16 };
        using var session = ModelSession.Open(model.WriteTo(_directory.Path), options, new ExecutionProviderSelector());
        var random = new Random(7);
        var batch = Enumerable.Range(0, 2 * session.ImageLength).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
        var probabilities = new float[2 * session.ClassCount];

        session.Run(batch, 2, probabilities);

        Assert.Equal(InferencePrecision.Float16, session.Precision);
        for (var image = 0; image < 2; image++)
        {
            var expected = model.Expected(batch.AsSpan(image * session.ImageLength, session.ImageLength));
            // float16 weights (unit roundoff 4.9e-4 of values up to 0.5) move probabilities near 0.2 by up to ~1e-4.
            Assert.All(expected.Zip(probabilities.Skip(image * session.ClassCount)), pair => Assert.Equal(pair.First, pair.Second, 1e-3));
        }

        using var float32 = ModelSession.Open(session.ModelPath, CpuOptions, new ExecutionProviderSelector());
        Assert.Equal(InferencePrecision.Float32, float32.Precision);
        var exact = new float[2 * session.ClassCount];
        float32.Run(batch, 2, exact);
        Assert.NotEqual(exact, probabilities);
    }

    [Fact]
    public void A_model_float16_cannot_convert_is_refused_at_open_with_the_reason()
    {
        var path = new TinyOnnxModel().WriteTo(_directory.Path);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        model.Graph.Node.Single(n => n.OpType == "Flatten").OpType = "Squeeze";
        File.WriteAllBytes(path, model.ToByteArray());
        var options = new InferenceOptions { Device = InferenceDevice.Cpu, Precision = InferencePrecision.Float16 };

        var error = Assert.Throws<InvalidDataException>(() => ModelSession.Open(path, options, new ExecutionProviderSelector()));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("Squeeze", error.Message, StringComparison.Ordinal);
        Assert.Contains("Float32", error.Message, StringComparison.Ordinal);
    }
}
