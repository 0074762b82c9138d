namespace EfficientNet.Batch.Models.Store;

/// <summary>Where the model store lives: an explicit directory, else <c>$EFFNET_MODELS</c>, else
/// <see cref="ModelStore.DefaultRoot"/>.</summary>
public static class ModelStoreLocation
{
    public const string EnvironmentVariable = "EFFNET_MODELS";

    public static string Resolve(string? explicitDirectory)
    {
        var directory = string.IsNullOrWhiteSpace(explicitDirectory) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : explicitDirectory;
        return Path.GetFullPath(string.IsNullOrWhiteSpace(directory) ? ModelStore.DefaultRoot : directory);
    }
}
