using System.Collections.Concurrent;
using System.Diagnostics;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using EfficientNet.Batch.Models.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EfficientNet.Batch.Models.Tests.Reference;

/// <summary>One model's random weights, two deterministic images and what the product's ONNX graph says about them.</summary>
internal sealed record OnnxCase(ModelVariant Variant, StateDict Weights, float[] Images, float[][] OnnxProbabilities, TimeSpan OnnxTime)
{
    public const int ImageCount = 2;

    /// <summary>The float32 graph that gave <see cref="OnnxProbabilities"/>.</summary>
    public required ModelProto Model { get; init; }

    public int ImageLength => 3 * Variant.Resolution * Variant.Resolution;

    public ReadOnlySpan<float> Image(int n) => Images.AsSpan(n * ImageLength, ImageLength);
}

/// <summary>Builds and runs each ONNX case once per test class, because the perturbation tests reuse the b0 run.</summary>
public sealed class ReferenceComparisonFixture
{
    public const int WeightSeed = 2024;

    private readonly ConcurrentDictionary<string, Lazy<OnnxCase>> _cases = new(StringComparer.Ordinal);

    internal OnnxCase Get(string id) => _cases.GetOrAdd(id, key => new Lazy<OnnxCase>(() => Run(key))).Value;

    private static OnnxCase Run(string id)
    {
        var variant = ModelCatalogue.Get(id);
        var weights = RandomWeights.Generate(variant.Architecture, WeightSeed);
        var images = CreateImages(variant);
        var stopwatch = Stopwatch.StartNew();
        var model = EfficientNetOnnxBuilder.Build(variant, weights, new Dictionary<string, string>());
        var rows = RunGraph(model, variant, images);
        return new OnnxCase(variant, weights, images, rows, stopwatch.Elapsed) { Model = model };
    }

    /// <summary>The probabilities ONNX Runtime's CPU provider gives for each image.</summary>
    internal static float[][] RunGraph(ModelProto model, ModelVariant variant, float[] images)
    {
        using var session = new InferenceSession(EfficientNetOnnxBuilder.ToBytes(model));
        var r = variant.Resolution;
        var input = new DenseTensor<float>(images, [OnnxCase.ImageCount, 3, r, r]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(EfficientNetOnnxBuilder.InputName, input)]);
        var probs = results.Single(v => v.Name == EfficientNetOnnxBuilder.OutputName).AsTensor<float>();
        return [.. Enumerable.Range(0, OnnxCase.ImageCount)
            .Select(n => Enumerable.Range(0, ReferenceArchitecture.Classes).Select(c => probs[n, c]).ToArray())];
    }

    /// <summary>Two normalised NCHW images built from 0..255 pixels with the variant's mean/std: uniform noise
    /// (every pixel independent) and a smooth colour pattern (what photos look like locally).</summary>
    private static float[] CreateImages(ModelVariant variant)
    {
        var r = variant.Resolution;
        var images = new float[OnnxCase.ImageCount * 3 * r * r];
        var random = new SplitMix64(7);
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < r; y++)
            {
                for (var x = 0; x < r; x++)
                {
                    var noise = Math.Floor(random.NextUniform() * 256);
                    var pattern = Math.Round(127.5 + (100 * Math.Sin((x * 0.07) + (2 * c)) * Math.Cos(y * 0.045)) + (0.1 * (x - y)));
                    var offset = (((c * r) + y) * r) + x;
                    images[offset] = (float)((noise - variant.Mean[c]) / variant.Std[c]);
                    images[(3 * r * r) + offset] = (float)((pattern - variant.Mean[c]) / variant.Std[c]);
                }
            }
        }

        return images;
    }
}
