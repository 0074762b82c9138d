using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using EfficientNet.Batch.Models.Checkpoints.Torch;

namespace EfficientNet.Batch.Models.Checkpoints.Pickle;

/// <summary>
/// Reads one pickle (protocol 2, as torch.save writes it; the protocol 4 framing opcodes are accepted too) into inert
/// values. It never imports or calls anything: GLOBAL resolves only against <see cref="TorchGlobals"/> and is refused
/// on sight otherwise, and REDUCE/NEWOBJ/BUILD on an allow-listed global build a description (a dict, a
/// <see cref="TensorReference"/>), not an object of the named class.
/// </summary>
/// <remarks>Resource use is bounded by <c>maxBytes</c>: the loop is iterative (no recursion), and every stack, mark or
/// memo entry costs at least one byte of input, as does every byte of a string.</remarks>
internal sealed class RestrictedUnpickler
{
    private const int MaxGlobalNameBytes = 1024;
    private const int MaxLongBytes = 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _input;
    private readonly long _maxBytes;
    private readonly Dictionary<string, StorageReference> _storagesByKey;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private long _position;
    private long _opcodeOffset;

    /// <param name="input">Read byte by byte up to STOP, so the caller can go on reading what follows (legacy files).</param>
    /// <param name="storagesByKey">Receives every storage a persistent id names; shared across the pickles of one file.</param>
    public RestrictedUnpickler(Stream input, long maxBytes, Dictionary<string, StorageReference> storagesByKey)
    {
        _input = input;
        _maxBytes = maxBytes;
        _storagesByKey = storagesByKey;
    }

    public long BytesRead => _position;

    public object? Load()
    {
        while (true)
        {
            _opcodeOffset = _position;
            var opcode = ReadByte();
            switch (opcode)
            {
                case 0x80: // PROTO
                    var protocol = ReadByte();
                    if (protocol is < 2 or > 5)
                    {
                        throw Error($"pickle protocol {protocol} is not supported (torch.save writes 2).");
                    }

                    break;
                case 0x95: // FRAME: a length prefix that changes nothing about how the opcodes inside are read.
                    ReadBytes(8);
                    break;
                case (byte)'.': // STOP
                    return Pop();

                case (byte)'(': // MARK
                    _marks.Push(_stack.Count);
                    break;
                case (byte)'0': // POP
                    Pop();
                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;

                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)));
                    break;
                case 0x8a: // LONG1
                    PushLong(ReadByte());
                    break;
                case 0x8b: // LONG4
                    PushLong(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)));
                    break;
                case (byte)'G': // BINFLOAT (big-endian)
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                    break;

                case (byte)'X': // BINUNICODE
                    Push(ReadString(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(ReadString(ReadByte()));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(ReadString(BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8))));
                    break;
                case (byte)'T': // BINSTRING (Python 2 str; torch.load decodes these as UTF-8)
                    Push(ReadString(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)) is var n && n >= 0 ? (ulong)n : throw Error("negative BINSTRING length.")));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(ReadString(ReadByte()));
                    break;

                case (byte)')': // EMPTY_TUPLE
                    Push(PickleTuple.Empty);
                    break;
                case 0x85: // TUPLE1
                    Push(new PickleTuple([Pop()]));
                    break;
                case 0x86: // TUPLE2
                    {
                        var second = Pop();
                        Push(new PickleTuple([Pop(), second]));
                        break;
                    }

                case 0x87: // TUPLE3
                    {
                        var third = Pop();
                        var second = Pop();
                        Push(new PickleTuple([Pop(), second, third]));
                        break;
                    }

                case (byte)'t': // TUPLE
                    Push(new PickleTuple(PopMark()));
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)'l': // LIST
                    Push(new List<object?>(PopMark()));
                    break;
                case (byte)'a': // APPEND
                    {
                        var item = Pop();
                        PeekList().Add(item);
                        break;
                    }

                case (byte)'e': // APPENDS
                    {
                        var items = PopMark();
                        PeekList().AddRange(items);
                        break;
                    }

                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict(isOrderedDict: false));
                    break;
                case (byte)'d': // DICT
                    {
                        var dict = new PickleDict(isOrderedDict: false);
                        SetItems(dict, PopMark());
                        Push(dict);
                        break;
                    }

                case (byte)'s': // SETITEM
                    {
                        var value = Pop();
                        var key = Pop();
                        PeekDict().Set(key, value, _opcodeOffset);
                        break;
                    }

                case (byte)'u': // SETITEMS
                    {
                        var items = PopMark();
                        SetItems(PeekDict(), items);
                        break;
                    }

                case (byte)'q': // BINPUT
                    _memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    _memo[_memo.Count] = Peek();
                    break;
                case (byte)'h': // BINGET
                    Push(MemoGet(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))));
                    break;

                case (byte)'c': // GLOBAL: refused here, before anything else happens, unless allow-listed.
                    {
                        var module = ReadLine();
                        var name = ReadLine();
                        Push(TorchGlobals.Resolve(module, name, _opcodeOffset));
                        break;
                    }

                case 0x93: // STACK_GLOBAL (protocol 4): same allow-list.
                    {
                        var name = Pop();
                        var module = Pop();
                        if (module is not string moduleName || name is not string globalName)
                        {
                            throw Error("STACK_GLOBAL needs two strings.");
                        }

                        Push(TorchGlobals.Resolve(moduleName, globalName, _opcodeOffset));
                        break;
                    }

                case (byte)'R': // REDUCE
                    {
                        var arguments = Pop();
                        Push(Call(Pop(), arguments));
                        break;
                    }

                case 0x81: // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is constructible.
                    {
                        var arguments = Pop();
                        var cls = Pop();
                        Push(cls is TorchGlobal { Kind: TorchGlobalKind.OrderedDict } && arguments is PickleTuple { Count: 0 }
                            ? new PickleDict(isOrderedDict: true)
                            : throw Error($"NEWOBJ on {PickleValueNames.Describe(cls)} is not supported."));
                        break;
                    }

                case (byte)'b': // BUILD: only the state (e.g. _metadata) of an OrderedDict, kept as data.
                    {
                        var state = Pop();
                        if (Peek() is not PickleDict { IsOrderedDict: true } ordered)
                        {
                            throw Error($"BUILD on {PickleValueNames.Describe(Peek())} is not supported.");
                        }

                        ordered.BuildState = state;
                        break;
                    }

                case (byte)'Q': // BINPERSID
                    Push(RegisterStorage(StorageReference.FromPersistentId(Pop(), _opcodeOffset)));
                    break;

                default:
                    throw Error($"opcode 0x{opcode:x2} is not supported by this reader (torch.save does not emit it).");
            }
        }
    }

    private object Call(object? callable, object? arguments)
    {
        if (callable is not TorchGlobal global)
        {
            throw Error($"REDUCE on {PickleValueNames.Describe(callable)}, which is not a callable global.");
        }

        switch (global.Kind)
        {
            case TorchGlobalKind.OrderedDict when arguments is PickleTuple { Count: 0 }:
                return new PickleDict(isOrderedDict: true);
            case TorchGlobalKind.RebuildTensorV2:
                return TensorReference.FromRebuildArguments(arguments, _opcodeOffset);
            case TorchGlobalKind.RebuildParameter when arguments is PickleTuple { Count: 3 } args && args[0] is TensorReference data:
                // _rebuild_parameter(data, requires_grad, backward_hooks): a Parameter is its data for our purposes.
                return data;
            default:
                throw Error($"call of {global.QualifiedName} with {PickleValueNames.Describe(arguments)} is not supported.");
        }
    }

    private StorageReference RegisterStorage(StorageReference storage)
    {
        if (!_storagesByKey.TryAdd(storage.Key, storage) && _storagesByKey[storage.Key] != storage)
        {
            // Storage location ("cpu" vs "cuda:0") is part of the record; the same key twice means the same storage.
            var first = _storagesByKey[storage.Key];
            if (first.ElementType != storage.ElementType || first.ElementCount != storage.ElementCount)
            {
                throw Error($"storage '{storage.Key}' is declared twice with different types or sizes ({first.ElementType}×{first.ElementCount}, {storage.ElementType}×{storage.ElementCount}).");
            }
        }

        return _storagesByKey[storage.Key];
    }

    private void SetItems(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0)
        {
            throw Error("SETITEMS/DICT has an odd number of items.");
        }

        for (var i = 0; i < items.Length; i += 2)
        {
            dict.Set(items[i], items[i + 1], _opcodeOffset);
        }
    }

    private object? MemoGet(long index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Error($"memo entry {index} is read before it is written.");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() == _stack.Count))
        {
            throw Error("stack underflow.");
        }

        return _stack[^1];
    }

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PeekList() =>
        Peek() as List<object?> ?? throw Error($"APPEND target is {PickleValueNames.Describe(Peek())}, not a list.");

    private PickleDict PeekDict() =>
        Peek() as PickleDict ?? throw Error($"SETITEM target is {PickleValueNames.Describe(Peek())}, not a dict.");

    private object?[] PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Error("MARK expected but none is open.");
        }

        var start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start).ToArray();
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private byte ReadByte()
    {
        Reserve(1);
        var value = _input.ReadByte();
        return value >= 0 ? (byte)value : throw Truncated();
    }

    private byte[] ReadBytes(ulong count)
    {
        Reserve(count);
        var buffer = new byte[count];
        try
        {
            _input.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw Truncated();
        }

        return buffer;
    }

    // Checked before allocating, so a forged length cannot make us allocate more than the pickle budget.
    private void Reserve(ulong count)
    {
        if (count > (ulong)(_maxBytes - _position))
        {
            throw Error($"the pickle needs more than the {_maxBytes} bytes allowed (CheckpointReaderOptions.MaxPickleBytes); the file is corrupt or hostile.");
        }

        _position += (long)count;
    }

    private string ReadString(ulong byteCount)
    {
        var bytes = ReadBytes(byteCount);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new CheckpointFormatException($"Pickle offset {_opcodeOffset}: string is not valid UTF-8.", e);
        }
    }

    private string ReadLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = ReadByte();
            if (b == (byte)'\n')
            {
                return Encoding.ASCII.GetString(bytes.ToArray());
            }

            if (bytes.Count == MaxGlobalNameBytes || b > 0x7f)
            {
                throw Error("GLOBAL name is not a short ASCII line.");
            }

            bytes.Add(b);
        }
    }

    private void PushLong(long byteCount)
    {
        if (byteCount is < 0 or > MaxLongBytes)
        {
            throw Error($"integer of {byteCount} bytes is out of range.");
        }

        var value = new BigInteger(ReadBytes((ulong)byteCount), isUnsigned: false, isBigEndian: false);
        // Small values become long like every other int; only the legacy magic number needs more than 64 bits.
        if (value >= long.MinValue && value <= long.MaxValue)
        {
            Push((long)value);
        }
        else
        {
            Push(value);
        }
    }

    private CheckpointFormatException Truncated() => Error("the pickle ends before its STOP opcode (file truncated?).");

    private CheckpointFormatException Error(string message) => new($"Pickle offset {_opcodeOffset}: {message}");
}
