using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Catalogue;
using EfficientNet.Batch.Models.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EfficientNet.Batch.Models.Store;

/// <summary>Turns an exported ONNX file into one the inference sessions accept: checked by actually loading it with
/// ONNX Runtime, and with its single input and output renamed to the names the sessions bind
/// (mmdeploy calls the output <c>output</c>, mmcls' pytorch2onnx <c>probs</c>).</summary>
internal static class OnnxModelImport
{
    /// <summary>The <c>metadata_props</c> key that says the weights are untrained (generated, not learned).</summary>
    public const string UntrainedKey = "untrained";

    /// <summary>The bytes to store, with <c>metadata_props</c> naming the normalisation chosen: <paramref name="option"/>,
    /// else the file's own metadata, else the catalogue's (and, for a custom model, its class names). Untrained is what
    /// the file's <c>untrained</c> metadata says (ours sets it, so generated weights exported and imported again stay
    /// untrained).</summary>
    public static (byte[] Onnx, StoredNormalization Normalization, bool Untrained) Prepare(ModelDescription model, string path, Normalization? option)
    {
        var variant = model.Variant;
        var (inputName, outputName) = CheckWithRuntime(variant, path);
        ModelProto onnx;
        try
        {
            onnx = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelRejectedException(path, $"not a valid ONNX protobuf ({e.Message}).");
        }

        Rename(onnx.Graph, path, inputName, EfficientNetOnnxBuilder.InputName);
        Rename(onnx.Graph, path, outputName, EfficientNetOnnxBuilder.OutputName);
        // An explicit option makes the file's metadata irrelevant, even when it is unusable.
        var chosen = StoredNormalization.Choose(variant, option, option is null ? ReadNormalization(onnx, path) : null);
        WriteNormalization(onnx, chosen.Normalization);
        ReplaceMetadata(onnx, ClassNamesMetadata.Entries(model));
        var untrained = onnx.MetadataProps.Any(p =>
            string.Equals(p.Key, UntrainedKey, StringComparison.OrdinalIgnoreCase) && string.Equals(p.Value, "true", StringComparison.OrdinalIgnoreCase));
        return (onnx.ToByteArray(), chosen, untrained);
    }

    private static Normalization? ReadNormalization(ModelProto model, string path)
    {
        try
        {
            return NormalizationMetadata.Read(model.MetadataProps.Select(p => KeyValuePair.Create(p.Key, p.Value)));
        }
        catch (FormatException e)
        {
            throw new OnnxModelRejectedException(path, $"{e.Message} Fix it, or pass the normalisation explicitly (--normalization).");
        }
    }

    /// <summary>Replaces the file's normalisation keys, so the stored file names what it is served with.</summary>
    private static void WriteNormalization(ModelProto model, Normalization normalization) =>
        ReplaceMetadata(model, NormalizationMetadata.Entries(normalization));

    private static void ReplaceMetadata(ModelProto model, IEnumerable<KeyValuePair<string, string>> entries)
    {
        var replacing = entries.ToList();
        if (replacing.Count == 0)
        {
            return;
        }

        var keys = replacing.Select(e => e.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = model.MetadataProps.Where(p => !keys.Contains(p.Key)).ToList();
        model.MetadataProps.Clear();
        model.MetadataProps.Add(kept);
        foreach (var (key, value) in replacing)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
    }

    private static (string Input, string Output) CheckWithRuntime(ModelVariant variant, string path)
    {
        InferenceSession session;
        try
        {
            session = new InferenceSession(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelRejectedException(path, $"ONNX Runtime cannot load it ({e.Message.Trim()}).");
        }

        using (session)
        {
            if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1)
            {
                throw new OnnxModelRejectedException(path,
                    $"expected one input and one output, found inputs [{string.Join(", ", session.InputMetadata.Keys)}] "
                    + $"and outputs [{string.Join(", ", session.OutputMetadata.Keys)}].");
            }

            var (inputName, input) = session.InputMetadata.Single();
            var (outputName, output) = session.OutputMetadata.Single();
            var r = variant.Resolution;
            var inputShape = input.Dimensions;
            // The batch dimension may be symbolic (-1) or fixed; channels and spatial size must be the variant's.
            if (input.ElementType != typeof(float) || inputShape.Length != 4 || inputShape[1] != ArchSpec.InputChannels
                || inputShape[2] != r || inputShape[3] != r)
            {
                throw new OnnxModelRejectedException(path,
                    $"input '{inputName}' is {TypeName(input.ElementType)} {Shape(inputShape)}; {variant.Id} needs float [N, 3, {r}, {r}].");
            }

            var outputShape = output.Dimensions;
            var classes = variant.Architecture.ClassCount;
            if (output.ElementType != typeof(float) || outputShape.Length != 2 || outputShape[1] != classes)
            {
                throw new OnnxModelRejectedException(path,
                    $"output '{outputName}' is {TypeName(output.ElementType)} {Shape(outputShape)}; {variant.Id} needs float [N, {classes}]"
                    + (variant.IsCustom ? $", one output per class name ({classes} names)." : "."));
            }

            return (inputName, outputName);
        }
    }

    private static void Rename(GraphProto graph, string path, string from, string to)
    {
        if (from == to)
        {
            return;
        }

        var taken = graph.Node.SelectMany(n => n.Output).Concat(graph.Initializer.Select(i => i.Name)).Concat(graph.Input.Select(i => i.Name));
        if (taken.Contains(to, StringComparer.Ordinal))
        {
            throw new OnnxModelRejectedException(path, $"it already has a value named '{to}', so '{from}' cannot be renamed to it.");
        }

        foreach (var value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo).Where(v => v.Name == from))
        {
            value.Name = to;
        }

        foreach (var node in graph.Node)
        {
            Replace(node.Input, from, to);
            Replace(node.Output, from, to);
        }
    }

    private static void Replace(Google.Protobuf.Collections.RepeatedField<string> names, string from, string to)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == from)
            {
                names[i] = to;
            }
        }
    }

    private static string TypeName(Type type) => type == typeof(float) ? "float" : type.Name.ToLowerInvariant();

    private static string Shape(int[] dims) => $"[{string.Join(", ", dims.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
