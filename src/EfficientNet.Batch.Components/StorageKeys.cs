namespace EfficientNet.Batch.Components;

/// <summary>Joins '/'-separated object keys.</summary>
public static class StorageKeys
{
    public static string Join(string prefix, string key)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return key;
        }

        return prefix.EndsWith('/') ? prefix + key : prefix + "/" + key;
    }

    /// <summary>Appends a relative key to a location string (<c>az://c/p</c>, <c>file:///d</c> or a path).</summary>
    public static string JoinLocation(string location, string key) => location.TrimEnd('/') + "/" + key.TrimStart('/');
}
