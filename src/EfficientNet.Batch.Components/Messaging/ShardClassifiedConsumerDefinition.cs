namespace EfficientNet.Batch.Components.Messaging;

public sealed class ShardClassifiedConsumerDefinition : StateWriteConsumerDefinition<ShardClassifiedConsumer>;
