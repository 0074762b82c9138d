using System.Buffers.Binary;
using System.Text;

namespace EfficientNet.Batch.Models.Tests.Checkpoints;

/// <summary>Hand-assembled pickle fragments for opcode-level tests (the fixtures cover what torch.save writes).</summary>
internal static class PickleBytes
{
    public static readonly byte[] Protocol2 = [0x80, 0x02];
    public static readonly byte[] Stop = [(byte)'.'];

    public static byte[] Of(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Op(char opcode) => [(byte)opcode];

    public static byte[] Op(byte opcode) => [opcode];

    public static byte[] Global(string module, string name) => [(byte)'c', .. Encoding.ASCII.GetBytes($"{module}\n{name}\n")];

    /// <summary>Protocol 4 spelling of a global: two short strings and STACK_GLOBAL.</summary>
    public static byte[] StackGlobal(string module, string name) => [.. ShortUnicode(module), .. ShortUnicode(name), 0x93];

    public static byte[] Unicode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        return [(byte)'X', .. length, .. bytes];
    }

    public static byte[] ShortUnicode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        return [0x8c, (byte)bytes.Length, .. bytes];
    }

    public static byte[] Int1(byte value) => [(byte)'K', value];

    public static byte[] Float(double value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
        return [(byte)'G', .. bytes];
    }

    /// <summary><c>module.name(argument)</c> as protocol 2 writes a __reduce__ result.</summary>
    public static byte[] CallWithString(byte[] global, string argument) =>
        Of(Protocol2, global, Unicode(argument), Op((byte)0x85), Op('R'), Stop);
}
