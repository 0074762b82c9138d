namespace EfficientNet.Batch.Components.Messaging;

public sealed class ShardProgressConsumerDefinition : StateWriteConsumerDefinition<ShardProgressConsumer>;
