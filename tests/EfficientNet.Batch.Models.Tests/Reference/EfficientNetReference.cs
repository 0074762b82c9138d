namespace EfficientNet.Batch.Models.Tests.Reference;

/// <summary>Logits and softmax of one image, in double precision.</summary>
internal sealed record ReferenceOutput(double[] Logits, double[] Probabilities);

/// <summary>A slow, plain-loop EfficientNet forward pass written from the spec (§1.3) to check the ONNX graph the
/// product builds. It shares nothing with the product's graph code: its own block list
/// (<see cref="ReferenceArchitecture"/>), its own SAME padding, and BatchNorm applied unfolded from the running
/// statistics. Every value is held and accumulated in double, so its own rounding error is negligible next to
/// float32 inference.</summary>
internal sealed class EfficientNetReference
{
    /// <summary>mmcls EfficientNet BN eps (spec §1.3); PyTorch's default would be 1e-5.</summary>
    public const double DefaultBatchNormEpsilon = 1e-3;

    private readonly ReferenceArchitecture _arch;
    private readonly Dictionary<string, double[]> _weights = new(StringComparer.Ordinal);
    private readonly double _epsilon;
    private readonly bool _halfStorage;

    /// <param name="halfStorage">Emulates a float16 GPU run: every weight and every stored activation is rounded to
    /// float16 (after each conv + BN, each activation, the SE scale, each residual add, the pooled features and
    /// the logits), while products are still summed in double, as GPU half-precision kernels accumulate in float32.
    /// BN statistics stay exact, as in the converted graph, where they are folded before rounding.</param>
    /// <exception cref="ArgumentException">A key is missing, unexpected or has the wrong shape.</exception>
    public EfficientNetReference(
        ReferenceArchitecture arch, StateDict weights, double batchNormEpsilon = DefaultBatchNormEpsilon, bool halfStorage = false)
    {
        _arch = arch;
        _epsilon = batchNormEpsilon;
        _halfStorage = halfStorage;
        var expected = arch.ParameterShapes();
        foreach (var (key, tensor) in weights)
        {
            if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                continue;
            }

            if (!expected.TryGetValue(key, out var shape))
            {
                throw new ArgumentException($"Unexpected key {key} for arch {arch.Name}.", nameof(weights));
            }

            if (!shape.SequenceEqual(tensor.Shape))
            {
                throw new ArgumentException($"{key}: expected [{string.Join(',', shape)}], got {tensor.ShapeText}.", nameof(weights));
            }

            var isBatchNorm = key.Contains(".bn.", StringComparison.Ordinal);
            _weights[key] = Array.ConvertAll(tensor.Data, v => halfStorage && !isBatchNorm ? (double)(Half)v : v);
        }

        var missing = expected.Keys.Where(k => !_weights.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"Missing keys for arch {arch.Name}: {string.Join(", ", missing)}.", nameof(weights));
        }
    }

    /// <summary>Runs one normalised image laid out [3, R, R].</summary>
    public ReferenceOutput Forward(ReadOnlySpan<float> image)
    {
        var r = _arch.Resolution;
        if (image.Length != 3 * r * r)
        {
            throw new ArgumentException($"Expected 3x{r}x{r} values, got {image.Length}.", nameof(image));
        }

        var x = new FeatureMap(3, r, r, new double[image.Length]);
        for (var i = 0; i < image.Length; i++)
        {
            x.Data[i] = Store(image[i]);
        }

        x = ConvBn("backbone.layers.0", x, _arch.Stem, kernel: 3, stride: 2, depthwise: false, activate: true);
        foreach (var block in _arch.Blocks)
        {
            x = block.Kind == ReferenceBlockKind.EdgeResidual ? EdgeResidual(block, x) : InvertedResidual(block, x);
        }

        x = ConvBn("backbone.layers.6", x, _arch.Head, kernel: 1, stride: 1, depthwise: false, activate: true);
        var features = Array.ConvertAll(GlobalAverage(x), Store);

        var fcWeight = _weights["head.fc.weight"];
        var logits = (double[])_weights["head.fc.bias"].Clone();
        for (var c = 0; c < logits.Length; c++)
        {
            var row = fcWeight.AsSpan(c * features.Length, features.Length);
            for (var i = 0; i < features.Length; i++)
            {
                logits[c] += row[i] * features[i];
            }
        }

        double[] stored = [.. logits.Select(Store)];
        return new ReferenceOutput(stored, Softmax(stored));
    }

    private FeatureMap InvertedResidual(ReferenceBlock block, FeatureMap input)
    {
        var p = block.Prefix;
        var x = input;
        if (block.Mid != block.In)
        {
            x = ConvBn($"{p}.expand_conv", x, block.Mid, kernel: 1, stride: 1, depthwise: false, activate: true);
        }

        x = ConvBn($"{p}.depthwise_conv", x, block.Mid, block.Kernel, block.Stride, depthwise: true, activate: true);
        if (block.Squeeze > 0)
        {
            SqueezeExcite($"{p}.se", x, block.Squeeze);
        }

        x = ConvBn($"{p}.linear_conv", x, block.Out, kernel: 1, stride: 1, depthwise: false, activate: false);
        return block.Residual ? Add(input, x) : x;
    }

    /// <summary>0.x/TF placement: the k×k conv1 runs at stride 1 and the 1x1 conv2 carries the stride.</summary>
    private FeatureMap EdgeResidual(ReferenceBlock block, FeatureMap input)
    {
        var p = block.Prefix;
        var x = ConvBn($"{p}.conv1", input, block.Mid, block.Kernel, stride: 1, depthwise: false, activate: true);
        x = ConvBn($"{p}.conv2", x, block.Out, kernel: 1, block.Stride, depthwise: false, activate: false);
        return block.Residual ? Add(input, x) : x;
    }

    /// <summary>mean → 1x1 conv + bias → act → 1x1 conv + bias → sigmoid → scale the input in place.</summary>
    private void SqueezeExcite(string prefix, FeatureMap x, int squeeze)
    {
        var pooled = Array.ConvertAll(GlobalAverage(x), Store);
        var w1 = _weights[$"{prefix}.conv1.conv.weight"];
        var reduced = (double[])_weights[$"{prefix}.conv1.conv.bias"].Clone();
        for (var s = 0; s < squeeze; s++)
        {
            for (var c = 0; c < x.Channels; c++)
            {
                reduced[s] += w1[(s * x.Channels) + c] * pooled[c];
            }

            reduced[s] = Store(Activate(Store(reduced[s])));
        }

        var w2 = _weights[$"{prefix}.conv2.conv.weight"];
        var b2 = _weights[$"{prefix}.conv2.conv.bias"];
        for (var c = 0; c < x.Channels; c++)
        {
            var z = b2[c];
            for (var s = 0; s < squeeze; s++)
            {
                z += w2[(c * squeeze) + s] * reduced[s];
            }

            var gate = Store(1.0 / (1.0 + Math.Exp(-Store(z))));
            foreach (ref var v in x.Plane(c))
            {
                v = Store(v * gate);
            }
        }
    }

    /// <summary>Conv2dAdaptivePadding (TF "SAME", no bias) → BatchNorm from running statistics → optional act.</summary>
    private FeatureMap ConvBn(string prefix, FeatureMap x, int outChannels, int kernel, int stride, bool depthwise, bool activate)
    {
        var y = PlainConvolution.Same(x, _weights[$"{prefix}.conv.weight"], outChannels, kernel, stride, depthwise);
        var gamma = _weights[$"{prefix}.bn.weight"];
        var beta = _weights[$"{prefix}.bn.bias"];
        var mean = _weights[$"{prefix}.bn.running_mean"];
        var variance = _weights[$"{prefix}.bn.running_var"];
        for (var c = 0; c < outChannels; c++)
        {
            var inverseStd = 1.0 / Math.Sqrt(variance[c] + _epsilon);
            foreach (ref var v in y.Plane(c))
            {
                v = Store(((v - mean[c]) * inverseStd * gamma[c]) + beta[c]);
                if (activate)
                {
                    v = Store(Activate(v));
                }
            }
        }

        return y;
    }

    /// <summary>Swish for the 'b' family, ReLU for EdgeTPU (spec §1.3).</summary>
    private double Activate(double v) => _arch.IsEdgeTpu ? Math.Max(v, 0.0) : v / (1.0 + Math.Exp(-v));

    /// <summary>A value as the run stores it: exact, or rounded to float16.</summary>
    private double Store(double v) => _halfStorage ? (double)(Half)v : v;

    private FeatureMap Add(FeatureMap a, FeatureMap b)
    {
        var sum = new double[a.Data.Length];
        for (var i = 0; i < sum.Length; i++)
        {
            sum[i] = Store(a.Data[i] + b.Data[i]);
        }

        return a with { Data = sum };
    }

    private static double[] GlobalAverage(FeatureMap x)
    {
        var means = new double[x.Channels];
        for (var c = 0; c < x.Channels; c++)
        {
            var total = 0.0;
            foreach (var v in x.Plane(c))
            {
                total += v;
            }

            means[c] = total / (x.Height * x.Width);
        }

        return means;
    }

    private static double[] Softmax(double[] logits)
    {
        var max = logits.Max();
        var exps = logits.Select(l => Math.Exp(l - max)).ToArray();
        var total = exps.Sum();
        return [.. exps.Select(e => e / total)];
    }
}
