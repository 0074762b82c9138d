namespace EfficientNet.Batch.Components;

/// <summary>Location strings (keys inside a store are joined with <c>ResolvedLocation.KeyFor</c> / <c>BlobKey.Join</c>).</summary>
public static class StorageKeys
{
    /// <summary>Appends a relative key to a location string (<c>az://c/p</c>, <c>file:///d</c> or a path).</summary>
    public static string JoinLocation(string location, string key) => location.TrimEnd('/') + "/" + key.TrimStart('/');
}
