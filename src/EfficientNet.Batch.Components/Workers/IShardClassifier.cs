using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Workers;

/// <summary>Classifies one shard and commits its records under the shard's result name. <see cref="ShardClassifier"/>
/// runs the model; <c>effnet bench system</c> puts a simulated device in its place to measure everything around it.</summary>
public interface IShardClassifier
{
    Task<ShardClassified> ClassifyAsync(ClassifyShard shard, CancellationToken cancellationToken);
}
