using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace EfficientNet.Batch.Models.Tests.Download;

/// <summary>Test-only writer of the torch.save zip layout (spec §4): <c>archive/data.pkl</c> is a protocol 2 pickle of
/// an OrderedDict of <c>_rebuild_tensor_v2</c> calls, one float32 storage entry per tensor, and <c>archive/version</c>.</summary>
internal static class TorchZipCheckpointWriter
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
                var storageKey = index++.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Unicode(pickle, key);
                Global(pickle, "torch._utils", "_rebuild_tensor_v2");
                pickle.WriteByte((byte)'(');
                pickle.WriteByte((byte)'(');
                Unicode(pickle, "storage");
                Global(pickle, "torch", "FloatStorage");
                Unicode(pickle, storageKey);
                Unicode(pickle, "cpu");
                Int(pickle, tensor.Data.Length);
                pickle.Write("tQ"u8);
                Int(pickle, 0);
                IntTuple(pickle, tensor.Shape);
                IntTuple(pickle, ContiguousStrides(tensor.Shape));
                pickle.WriteByte(0x89);
                Global(pickle, "collections", "OrderedDict");
                pickle.Write(")RtR"u8);

                var entry = zip.CreateEntry($"archive/data/{storageKey}", CompressionLevel.NoCompression);
                using var data = entry.Open();
                data.Write(MemoryMarshal.AsBytes(tensor.Data.AsSpan()));
            }

            pickle.Write("u."u8);
            Write(zip, "archive/data.pkl", pickle.ToArray());
            Write(zip, "archive/version", "3\n"u8.ToArray());
        }

        return output.ToArray();
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(bytes);
    }

    private static int[] ContiguousStrides(int[] shape)
    {
        var strides = new int[shape.Length];
        var stride = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= shape[i];
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
