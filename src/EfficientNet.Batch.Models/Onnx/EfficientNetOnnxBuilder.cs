using System.Globalization;
using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using Google.Protobuf;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>Builds an inference ONNX graph (opset 17) for a catalogue (or custom) model from mmcls-layout weights:
/// <c>input</c> float [N,3,R,R] → <c>probs</c> [N,classes] (softmax; 1000 classes for the zoo, the arch's
/// <see cref="ArchSpec.ClassCount"/> for a custom model). BatchNorm is folded into the convs and TF
/// "SAME" padding is written as explicit pads for the fixed resolution R.</summary>
public static class EfficientNetOnnxBuilder
{
    public const string InputName = "input";
    public const string OutputName = "probs";
    public const string BatchDimension = "N";
    public const long OpsetVersion = 17;
    public const long IrVersion = 8;

    /// <exception cref="CheckpointMismatchException">The weights do not fit the variant's architecture.</exception>
    public static ModelProto Build(
        ModelVariant variant, StateDict weights, IReadOnlyDictionary<string, string> metadata, OnnxBuildOptions? options = null)
    {
        options ??= OnnxBuildOptions.Default;
        var arch = variant.Architecture;
        CheckpointValidator.Validate(arch, weights, $"{variant.Id} (arch {arch.Name})");

        var graph = new GraphProto { Name = variant.Id };
        graph.Input.Add(OnnxGraphWriter.FloatTensor(InputName, BatchDimension, ArchSpec.InputChannels, arch.Resolution, arch.Resolution));
        graph.Output.Add(OnnxGraphWriter.FloatTensor(OutputName, BatchDimension, arch.ClassCount));
        new EfficientNetGraph(new OnnxGraphWriter(graph), arch, weights, options.FoldBatchNorm).Emit(InputName, OutputName);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "EfficientNet.Batch.Models",
            ProducerVersion = typeof(EfficientNetOnnxBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        foreach (var (key, value) in StandardMetadata(variant).Concat(metadata))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    public static byte[] ToBytes(ModelProto model) => model.ToByteArray();

    /// <summary>Writes the model to <paramref name="path"/> (not atomically; the model store adds that).</summary>
    public static void WriteFile(ModelProto model, string path)
    {
        using var file = File.Create(path);
        model.WriteTo(file);
    }

    private static IEnumerable<KeyValuePair<string, string>> StandardMetadata(ModelVariant variant)
    {
        yield return new("id", variant.Id);
        yield return new("arch", variant.Arch);
        yield return new("flavour", variant.Flavour);
        yield return new("resolution", variant.Resolution.ToString(CultureInfo.InvariantCulture));
        foreach (var entry in NormalizationMetadata.Entries(variant.Normalization))
        {
            yield return entry;
        }
    }

    /// <summary>Emits the nodes of one architecture; mirrors the block list of <see cref="ArchSpec"/>.</summary>
    private sealed class EfficientNetGraph(OnnxGraphWriter writer, ArchSpec arch, StateDict weights, bool foldBatchNorm)
    {
        public void Emit(string input, string output)
        {
            var x = ConvBn("backbone.layers.0", input, arch.Resolution, ArchSpec.StemKernel, ArchSpec.StemStride, 1, activate: true);
            foreach (var block in arch.Blocks)
            {
                x = block.Type == BlockType.EdgeResidual ? EdgeResidual(block, x) : InvertedResidual(block, x);
            }

            x = ConvBn("backbone.layers.6", x, arch.FinalFeatureSize, 1, 1, 1, activate: true);
            x = writer.AddNode("GlobalAveragePool", "head.pool", [x]);
            x = writer.AddNode("Flatten", "head.flatten", [x], OnnxGraphWriter.Int("axis", 1));
            var fcWeight = writer.AddInitializer("head.fc.weight", weights["head.fc.weight"].Shape, weights["head.fc.weight"].Data);
            var fcBias = writer.AddInitializer("head.fc.bias", weights["head.fc.bias"].Shape, weights["head.fc.bias"].Data);
            x = writer.AddNode("Gemm", "head.fc", [x, fcWeight, fcBias], OnnxGraphWriter.Int("transB", 1));
            writer.AddNode("Softmax", "head.softmax", [x], OnnxGraphWriter.Int("axis", 1));
            writer.RenameLastOutput(output);
        }

        private string InvertedResidual(BlockSpec block, string input)
        {
            var p = block.KeyPrefix;
            var x = input;
            if (block.HasExpandConv)
            {
                x = ConvBn($"{p}.expand_conv", x, block.InputSize, 1, 1, 1, activate: true);
            }

            x = ConvBn($"{p}.depthwise_conv", x, block.InputSize, block.Kernel, block.Stride, block.MidChannels, activate: true);
            if (block.HasSqueezeExcitation)
            {
                x = SqueezeExcitation($"{p}.se", x);
            }

            x = ConvBn($"{p}.linear_conv", x, block.OutputSize, 1, 1, 1, activate: false);
            return block.HasResidual ? writer.AddNode("Add", $"{p}.residual", [input, x]) : x;
        }

        /// <summary>0.x/TF placement: k×k conv at stride 1, the 1x1 conv carries the stride (spec §1.3).</summary>
        private string EdgeResidual(BlockSpec block, string input)
        {
            var p = block.KeyPrefix;
            var x = ConvBn($"{p}.conv1", input, block.InputSize, block.Kernel, 1, 1, activate: true);
            x = ConvBn($"{p}.conv2", x, block.InputSize, 1, block.Stride, 1, activate: false);
            return block.HasResidual ? writer.AddNode("Add", $"{p}.residual", [input, x]) : x;
        }

        private string SqueezeExcitation(string prefix, string input)
        {
            var s = writer.AddNode("GlobalAveragePool", $"{prefix}.pool", [input]);
            s = PlainConv($"{prefix}.conv1.conv", s);
            s = Activate($"{prefix}.conv1", s);
            s = PlainConv($"{prefix}.conv2.conv", s);
            s = writer.AddNode("Sigmoid", $"{prefix}.gate", [s]);
            return writer.AddNode("Mul", $"{prefix}.scale", [input, s]);
        }

        /// <summary>1x1 conv with its own bias and no padding (the SE convs are plain nn.Conv2d).</summary>
        private string PlainConv(string prefix, string input)
        {
            var weight = weights[$"{prefix}.weight"];
            var w = writer.AddInitializer($"{prefix}.weight", weight.Shape, weight.Data);
            var b = writer.AddInitializer($"{prefix}.bias", weights[$"{prefix}.bias"].Shape, weights[$"{prefix}.bias"].Data);
            return writer.AddNode("Conv", prefix, [input, w, b], OnnxGraphWriter.Ints("kernel_shape", 1, 1));
        }

        /// <summary>Conv2dAdaptivePadding + BN (folded, or a BatchNormalization node) + optional activation.</summary>
        private string ConvBn(string prefix, string input, int inputSize, int kernel, int stride, int groups, bool activate)
        {
            var convWeight = weights[$"{prefix}.conv.weight"];
            var pad = SamePadding.For(inputSize, kernel, stride);
            AttributeProto[] convAttributes =
            [
                OnnxGraphWriter.Ints("kernel_shape", kernel, kernel),
                OnnxGraphWriter.Ints("strides", stride, stride),
                OnnxGraphWriter.Ints("pads", pad.Before, pad.Before, pad.After, pad.After),
                OnnxGraphWriter.Int("group", groups),
            ];

            string x;
            if (foldBatchNorm)
            {
                var (weight, bias) = BatchNormFolding.Fold(
                    convWeight.Data,
                    weights[$"{prefix}.bn.weight"].Data,
                    weights[$"{prefix}.bn.bias"].Data,
                    weights[$"{prefix}.bn.running_mean"].Data,
                    weights[$"{prefix}.bn.running_var"].Data);
                var w = writer.AddInitializer($"{prefix}.weight", convWeight.Shape, weight);
                var b = writer.AddInitializer($"{prefix}.bias", [bias.Length], bias);
                x = writer.AddNode("Conv", prefix, [input, w, b], convAttributes);
            }
            else
            {
                var w = Checkpoint($"{prefix}.conv.weight");
                x = writer.AddNode("Conv", $"{prefix}.conv", [input, w], convAttributes);
                x = writer.AddNode("BatchNormalization", $"{prefix}.bn",
                    [x, Checkpoint($"{prefix}.bn.weight"), Checkpoint($"{prefix}.bn.bias"),
                        Checkpoint($"{prefix}.bn.running_mean"), Checkpoint($"{prefix}.bn.running_var")],
                    OnnxGraphWriter.Float("epsilon", (float)BatchNormFolding.Epsilon));
            }

            return activate ? Activate(prefix, x) : x;
        }

        /// <summary>An initializer holding a checkpoint tensor unchanged, named after its key.</summary>
        private string Checkpoint(string key) => writer.AddInitializer(key, weights[key].Shape, weights[key].Data);

        private string Activate(string prefix, string input)
        {
            if (arch.Activation == ActivationKind.Relu)
            {
                return writer.AddNode("Relu", $"{prefix}.act", [input]);
            }

            // Swish as Sigmoid + Mul: ONNX Runtime fuses the pair.
            var gate = writer.AddNode("Sigmoid", $"{prefix}.act", [input]);
            return writer.AddNode("Mul", $"{prefix}.act", [input, gate]);
        }
    }
}
