using System.Numerics;

namespace EfficientNet.Batch.Models.Checkpoints.Pickle;

// The unpickler builds only these inert values (plus string, long, BigInteger, double, bool, null for None,
// and List<object?> for lists). None of them runs code; torch objects are described, not constructed.

/// <summary>A Python tuple.</summary>
internal sealed class PickleTuple(object?[] items)
{
    public static readonly PickleTuple Empty = new([]);

    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];
}

/// <summary>A Python dict or collections.OrderedDict, in insertion order (as Python keeps it).</summary>
internal sealed class PickleDict(bool isOrderedDict)
{
    private readonly Dictionary<object, int> _indexByKey = new(PickleKeyComparer.Instance);
    private readonly List<KeyValuePair<object, object?>> _entries = [];

    public bool IsOrderedDict { get; } = isOrderedDict;

    /// <summary>The state given by a BUILD opcode; torch state dicts carry <c>{'_metadata': ...}</c> here. Kept, never interpreted.</summary>
    public object? BuildState { get; set; }

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<object, object?>> Entries => _entries;

    public IEnumerable<object> Keys => _entries.Select(e => e.Key);

    public void Set(object? key, object? value, long pickleOffset)
    {
        if (!PickleKeyComparer.IsSupportedKey(key))
        {
            throw new CheckpointFormatException(
                $"Pickle offset {pickleOffset}: a dict key of type {PickleValueNames.Describe(key)} is not supported (keys must be str, int, float, bool or a flat tuple of those).");
        }

        if (_indexByKey.TryGetValue(key!, out var index))
        {
            // Python semantics: a repeated key keeps its first position and takes the last value.
            _entries[index] = new(key!, value);
        }
        else
        {
            _indexByKey.Add(key!, _entries.Count);
            _entries.Add(new(key!, value));
        }
    }

    public bool TryGetValue(string key, out object? value)
    {
        if (_indexByKey.TryGetValue(key, out var index))
        {
            value = _entries[index].Value;
            return true;
        }

        value = null;
        return false;
    }
}

/// <summary>Python equality for the dict keys we accept. Nested tuples are refused as keys, so hashing never recurses
/// more than one level (a deeply nested key could otherwise overflow the stack).</summary>
internal sealed class PickleKeyComparer : IEqualityComparer<object>
{
    public static readonly PickleKeyComparer Instance = new();

    public static bool IsSupportedKey(object? key) => key switch
    {
        PickleTuple tuple => tuple.Items.All(IsScalarKey),
        _ => IsScalarKey(key),
    };

    private static bool IsScalarKey(object? key) => key is string or long or BigInteger or double or bool;

    public new bool Equals(object? x, object? y) => (x, y) switch
    {
        (PickleTuple a, PickleTuple b) => a.Count == b.Count && a.Items.Zip(b.Items).All(p => ScalarEquals(p.First, p.Second)),
        _ => ScalarEquals(x, y),
    };

    public int GetHashCode(object obj)
    {
        if (obj is PickleTuple tuple)
        {
            var hash = new HashCode();
            foreach (var item in tuple.Items)
            {
                hash.Add(ScalarHash(item));
            }

            return hash.ToHashCode();
        }

        return ScalarHash(obj);
    }

    // Python treats 1, 1.0 and True as the same key; mirror that so duplicate-key handling matches.
    private static bool ScalarEquals(object? x, object? y) => (Numeric(x), Numeric(y)) switch
    {
        (double a, double b) => a.Equals(b),
        _ => object.Equals(x, y),
    };

    private static int ScalarHash(object? value) => Numeric(value) is double d ? d.GetHashCode() : value?.GetHashCode() ?? 0;

    private static double? Numeric(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => d,
        _ => null,
    };
}

/// <summary>Short, non-recursive descriptions of pickle values for error messages.</summary>
internal static class PickleValueNames
{
    public static string Describe(object? value) => value switch
    {
        null => "None",
        string => "str",
        long or BigInteger => "int",
        double => "float",
        bool => "bool",
        PickleTuple t => $"tuple of {t.Count}",
        List<object?> l => $"list of {l.Count}",
        PickleDict { IsOrderedDict: true } d => $"OrderedDict of {d.Count}",
        PickleDict d => $"dict of {d.Count}",
        Torch.TorchGlobal g => $"global {g.QualifiedName}",
        Torch.StorageReference s => $"{s.ElementType} storage '{s.Key}'",
        Torch.TensorReference t => $"{t.Storage.ElementType} tensor",
        _ => value.GetType().Name,
    };
}
