using System.Numerics;
using EfficientNet.Batch.Models.Checkpoints;
using EfficientNet.Batch.Models.Checkpoints.Pickle;
using EfficientNet.Batch.Models.Checkpoints.Torch;
using static EfficientNet.Batch.Models.Tests.Checkpoints.PickleBytes;

namespace EfficientNet.Batch.Models.Tests.Checkpoints;

public sealed class RestrictedUnpicklerTests
{
    private static object? Load(byte[] pickle, long maxBytes = 1 << 20) =>
        new RestrictedUnpickler(new MemoryStream(pickle), maxBytes, []).Load();

    [Fact]
    public void Scalars_containers_and_memo_references_come_back_as_python_wrote_them()
    {
        // {'a': 5, 'b': 1.5, 'c': [None, True, False], 'd': <same list as c>, 'e': ('x',)}
        var pickle = Of(Protocol2, Op('}'), Op('('),
            Unicode("a"), Int1(5),
            Unicode("b"), Float(1.5),
            Unicode("c"), Op(']'), [(byte)'q', 7], Op('('), Op('N'), Op((byte)0x88), Op((byte)0x89), Op('e'),
            Unicode("d"), [(byte)'h', 7],
            Unicode("e"), ShortUnicode("x"), Op((byte)0x85),
            Op('u'), Stop);

        var dict = Assert.IsType<PickleDict>(Load(pickle));

        Assert.True(dict.TryGetValue("a", out var a) && a is 5L);
        Assert.True(dict.TryGetValue("b", out var b) && b is 1.5);
        Assert.True(dict.TryGetValue("c", out var c));
        Assert.Equal([null, true, false], Assert.IsType<List<object?>>(c));
        Assert.True(dict.TryGetValue("d", out var d) && ReferenceEquals(c, d));
        Assert.True(dict.TryGetValue("e", out var e) && e is PickleTuple { Count: 1 } t && t[0] is "x");
    }

    [Fact]
    public void Long1_reads_the_80_bit_legacy_magic_number_and_small_values_stay_long()
    {
        byte[] magicBytes = [.. new BigInteger(119547037146038801333356m).ToByteArray()];
        Assert.Equal(new BigInteger(119547037146038801333356m), Load(Of(Protocol2, [0x8a, (byte)magicBytes.Length], magicBytes, Stop)));
        Assert.Equal(-2L, Load(Of(Protocol2, [0x8a, 1, 0xfe], Stop)));
    }

    [Fact]
    public void Forged_string_length_is_refused_before_allocating()
    {
        var pickle = Of(Protocol2, [(byte)'X', 0xf0, 0xff, 0xff, 0xff], Stop);

        var ex = Assert.Throws<CheckpointFormatException>(() => Load(pickle));

        Assert.Contains("MaxPickleBytes", ex.Message);
    }

    [Fact]
    public void Reading_past_the_pickle_budget_is_refused()
    {
        var pickle = Of(Protocol2, Unicode(new string('x', 100)), Stop);

        Assert.Equal(new string('x', 100), Load(pickle, maxBytes: pickle.Length));
        Assert.Contains("MaxPickleBytes", Assert.Throws<CheckpointFormatException>(() => Load(pickle, maxBytes: pickle.Length - 1)).Message);
    }

    [Fact]
    public void Memo_read_before_write_is_an_error_not_a_null()
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => Load(Of(Protocol2, [(byte)'j', 0xff, 0xff, 0xff, 0xff], Stop)));

        Assert.Contains("memo entry 4294967295", ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'t', (byte)'.' }, "MARK")] // TUPLE with no MARK open
    [InlineData(new byte[] { 0x80, 0x02, (byte)'.' }, "underflow")] // STOP on an empty stack
    [InlineData(new byte[] { 0x80, 0x02, (byte)'(', (byte)'a', (byte)'.' }, "underflow")] // APPEND reaching below a MARK
    [InlineData(new byte[] { 0x80, 0x02, (byte)'K', 1, (byte)'K', 2, (byte)'a', (byte)'.' }, "not a list")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'I', (byte)'1', (byte)'\n', (byte)'.' }, "opcode 0x49")] // protocol 0 INT
    [InlineData(new byte[] { 0x80, 0x01 }, "protocol 1")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'K' }, "truncated")]
    public void Malformed_pickles_fail_with_a_message_that_says_why(byte[] pickle, string expectedInMessage)
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => Load(pickle));

        Assert.Contains(expectedInMessage, ex.Message);
    }

    [Fact]
    public void Deep_nesting_is_handled_without_recursion()
    {
        const int depth = 200_000;
        var pickle = Of(Protocol2, Enumerable.Repeat((byte)']', depth).ToArray(), Enumerable.Repeat((byte)'a', depth - 1).ToArray(), Stop);

        var outer = Assert.IsType<List<object?>>(Load(pickle));

        Assert.Single(outer);
        Assert.Contains("list of 1", Assert.Throws<CheckpointFormatException>(() => StateDictAssembler.Select(outer, CheckpointReaderOptions.Default)).Message);
    }

    [Fact]
    public void Nested_tuple_dict_keys_are_refused_so_hashing_cannot_recurse()
    {
        var pickle = Of(Protocol2, Op('}'), Int1(1), Op((byte)0x85), Op((byte)0x85), Int1(0), Op('s'), Stop);

        Assert.Contains("dict key", Assert.Throws<CheckpointFormatException>(() => Load(pickle)).Message);
    }

    [Fact]
    public void Repeated_dict_key_keeps_the_last_value_like_python()
    {
        var pickle = Of(Protocol2, Op('}'), Op('('), Unicode("k"), Int1(1), Unicode("k"), Int1(2), Op('u'), Stop);

        var dict = Assert.IsType<PickleDict>(Load(pickle));

        Assert.Equal(1, dict.Count);
        Assert.True(dict.TryGetValue("k", out var value) && value is 2L);
    }

    [Fact]
    public void Tensor_reaching_past_its_storage_is_refused_when_unpickled()
    {
        // _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 10), offset 5, size (6,), stride (1,), False, OrderedDict())
        var pickle = Of(Protocol2,
            Global("torch._utils", "_rebuild_tensor_v2"), Op('('),
            Op('('), Unicode("storage"), Global("torch", "FloatStorage"), Unicode("0"), Unicode("cpu"), Int1(10), Op('t'), Op('Q'),
            Int1(5), Int1(6), Op((byte)0x85), Int1(1), Op((byte)0x85), Op((byte)0x89),
            Global("collections", "OrderedDict"), Op(')'), Op('R'), Op('t'), Op('R'), Stop);

        var ex = Assert.Throws<CheckpointFormatException>(() => Load(pickle));

        Assert.Contains("reaches element 10 of storage '0', which holds 10", ex.Message);
    }

    [Fact]
    public void Tensor_inside_its_storage_is_described_with_size_stride_and_offset()
    {
        var pickle = Of(Protocol2,
            Global("torch._utils", "_rebuild_tensor_v2"), Op('('),
            Op('('), Unicode("storage"), Global("torch", "HalfStorage"), Unicode("7"), Unicode("cuda:0"), Int1(10), Op('t'), Op('Q'),
            Int1(4), Int1(2), Int1(3), Op((byte)0x86), Int1(1), Int1(2), Op((byte)0x86), Op((byte)0x89),
            Global("collections", "OrderedDict"), Op(')'), Op('R'), Op('t'), Op('R'), Stop);

        var tensor = Assert.IsType<TensorReference>(Load(pickle));

        Assert.Equal(new StorageReference(CheckpointElementType.Float16, "7", "cuda:0", 10), tensor.Storage);
        Assert.Equal(4, tensor.StorageOffset);
        Assert.Equal([2L, 3], tensor.Size);
        Assert.Equal([1L, 2], tensor.Stride);
        Assert.False(tensor.IsContiguous);
    }
}
