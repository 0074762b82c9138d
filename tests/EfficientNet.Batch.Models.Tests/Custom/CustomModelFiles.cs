using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Tests.Download;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.Models.Tests.Custom;

/// <summary>What a user brings to import a model of their own: an mmcls checkpoint fine-tuned on the 37 Oxford-IIIT
/// Pet breeds (torch.save zip layout, deterministic random tensors with a 37-output head) and its names file.</summary>
internal static class CustomModelFiles
{
    /// <summary>The 37 classes of the Oxford-IIIT Pet dataset, in its class-index order.</summary>
    public static IReadOnlyList<string> PetBreeds { get; } =
    [
        "Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle", "Bengal", "Birman", "Bombay",
        "boxer", "British_Shorthair", "chihuahua", "Egyptian_Mau", "english_cocker_spaniel", "english_setter", "german_shorthaired",
        "great_pyrenees", "havanese", "japanese_chin", "keeshond", "leonberger", "Maine_Coon", "miniature_pinscher", "newfoundland",
        "Persian", "pomeranian", "pug", "Ragdoll", "Russian_Blue", "saint_bernard", "samoyed", "scottish_terrier", "shiba_inu",
        "Siamese", "Sphynx", "staffordshire_bull_terrier", "wheaten_terrier", "yorkshire_terrier",
    ];

    private static readonly Lazy<byte[]> LazyPetsB0 = new(() => Checkpoint("b0", PetBreeds.Count, seed: 37));

    /// <summary>A b0 fine-tuned on the pets: <c>head.fc.weight</c> [37, 1280], <c>head.fc.bias</c> [37].</summary>
    public static byte[] PetsB0 => LazyPetsB0.Value;

    public static byte[] Checkpoint(string arch, int classes, int seed) =>
        TorchZipCheckpointWriter.ToBytes(RandomWeights.Generate(ArchSpec.Get(arch).WithClassCount(classes), seed));

    public static string Write(TempDirectory temp, string name, byte[] bytes)
    {
        var path = temp.Sub(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A names file as a user writes one: one name per line, Windows line ends and a final newline.</summary>
    public static string WriteNames(TempDirectory temp, string name, IEnumerable<string> names) =>
        Write(temp, name, System.Text.Encoding.UTF8.GetBytes(string.Join("\r\n", names) + "\r\n"));
}
