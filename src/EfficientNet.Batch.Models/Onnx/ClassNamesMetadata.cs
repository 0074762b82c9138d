using System.Globalization;
using EfficientNet.Batch.Models.Catalogue;

namespace EfficientNet.Batch.Models.Onnx;

/// <summary>The ONNX <c>metadata_props</c> that carry a custom model's class names, so that an exported file says what
/// its outputs are: <c>class_count</c> and <c>classes</c> (the names, one per line in output order). Zoo models have
/// neither: their outputs are the 1000 ImageNet classes.</summary>
public static class ClassNamesMetadata
{
    public const string CountKey = "class_count";
    public const string NamesKey = "classes";

    public static IEnumerable<KeyValuePair<string, string>> Entries(ModelDescription model)
    {
        if (!model.Variant.IsCustom)
        {
            yield break;
        }

        yield return new(CountKey, model.ClassNames.Count.ToString(CultureInfo.InvariantCulture));
        yield return new(NamesKey, string.Join('\n', model.ClassNames));
    }
}
