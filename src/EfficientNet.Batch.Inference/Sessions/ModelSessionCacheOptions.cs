using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.Inference;

/// <summary>How many models a <see cref="ModelSessionCache"/> keeps loaded. Workers set it from
/// <c>Worker:MaxLoadedModels</c>; without it the cache has no limit.</summary>
public sealed class ModelSessionCacheOptions
{
    /// <summary>Sessions kept loaded; the least recently used one is unloaded when another is needed. 0: no limit.</summary>
    [Range(0, 256)]
    public int MaxLoadedModels { get; set; }
}
