using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using EfficientNet.Batch.Models;
using EfficientNet.Batch.Models.Architecture;
using EfficientNet.Batch.Models.Weights;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>What a user brings to <c>effnet models import … --classes</c>: an mmcls EfficientNet-b0 fine-tuned on the 37
/// Oxford-IIIT Pet breeds, written as torch.save writes it (deterministic random tensors, head [37, 1280]), and its
/// names file.</summary>
internal static class CustomClassesFiles
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

    private static readonly Lazy<byte[]> LazyPetsB0 = new(() =>
        TorchZipCheckpoint.ToBytes(RandomWeights.Generate(ArchSpec.Get("b0").WithClassCount(PetBreeds.Count), 37)));

    public static byte[] PetsB0 => LazyPetsB0.Value;

    /// <summary>Three real photos from the shared test data.</summary>
    public static IReadOnlyList<string> Photos => [.. Directory.GetFiles(TestPaths.Samples, "*.JPEG").Order(StringComparer.Ordinal).Take(3)];

    public static string WriteCheckpoint(string directory)
    {
        var path = Path.Combine(directory, "pets-b0.pth");
        File.WriteAllBytes(path, PetsB0);
        return path;
    }

    /// <summary>Other weights for the same pets model (seed 37 is <see cref="PetsB0"/>).</summary>
    public static string WriteCheckpoint(string directory, int seed)
    {
        var path = Path.Combine(directory, $"pets-b0-seed{seed}.pth");
        File.WriteAllBytes(path, TorchZipCheckpoint.ToBytes(RandomWeights.Generate(ArchSpec.Get("b0").WithClassCount(PetBreeds.Count), seed)));
        return path;
    }

    /// <summary>A names file as a user writes one: one name per line, with a final newline.</summary>
    public static string WriteNames(string directory, IEnumerable<string> names, string file = "names.txt")
    {
        var path = Path.Combine(directory, file);
        File.WriteAllText(path, string.Join('\n', names) + "\n");
        return path;
    }

    /// <summary>The torch.save zip layout (spec §4): <c>archive/data.pkl</c>, a protocol 2 pickle of an OrderedDict of
    /// <c>_rebuild_tensor_v2</c> calls on float32 storages <c>archive/data/{n}</c>, and <c>archive/version</c>.
    /// (The Models tests have the same writer; test projects cannot share internal helpers.)</summary>
    private static class TorchZipCheckpoint
    {
        public static byte[] ToBytes(StateDict weights)
        {
            using var output = new MemoryStream();
            using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            {
                var pickle = new MemoryStream();
                pickle.Write([0x80, 0x02]);
                Global(pickle, "collections", "OrderedDict");
                pickle.Write(")R("u8);
                var index = 0;
                foreach (var (key, tensor) in weights)
                {
                    var storage = (index++).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    Unicode(pickle, key);
                    Global(pickle, "torch._utils", "_rebuild_tensor_v2");
                    pickle.Write("(("u8);
                    Unicode(pickle, "storage");
                    Global(pickle, "torch", "FloatStorage");
                    Unicode(pickle, storage);
                    Unicode(pickle, "cpu");
                    Int(pickle, tensor.Data.Length);
                    pickle.Write("tQ"u8);
                    Int(pickle, 0);
                    IntTuple(pickle, tensor.Shape);
                    IntTuple(pickle, Strides(tensor.Shape));
                    pickle.WriteByte(0x89);
                    Global(pickle, "collections", "OrderedDict");
                    pickle.Write(")RtR"u8);
                    Entry(zip, $"archive/data/{storage}", MemoryMarshal.AsBytes(tensor.Data.AsSpan()));
                }

                pickle.Write("u."u8);
                Entry(zip, "archive/data.pkl", pickle.ToArray());
                Entry(zip, "archive/version", "3\n"u8);
            }

            return output.ToArray();
        }

        private static void Entry(ZipArchive zip, string name, ReadOnlySpan<byte> bytes)
        {
            using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            stream.Write(bytes);
        }

        private static int[] Strides(int[] shape)
        {
            var strides = new int[shape.Length];
            for (int i = shape.Length - 1, stride = 1; i >= 0; stride *= shape[i], i--)
            {
                strides[i] = stride;
            }

            return strides;
        }

        private static void Global(Stream pickle, string module, string name) => pickle.Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));

        private static void Unicode(Stream pickle, string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            pickle.WriteByte((byte)'X');
            pickle.Write(length);
            pickle.Write(bytes);
        }

        private static void Int(Stream pickle, int value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
            pickle.WriteByte((byte)'J');
            pickle.Write(bytes);
        }

        private static void IntTuple(Stream pickle, int[] values)
        {
            pickle.WriteByte((byte)'(');
            foreach (var value in values)
            {
                Int(pickle, value);
            }

            pickle.WriteByte((byte)'t');
        }
    }
}
