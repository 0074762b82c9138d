using System.ComponentModel.DataAnnotations;

namespace EfficientNet.Batch.ServiceDefaults;

public enum MessagingTransport
{
    /// <summary>MassTransit's in-memory transport: one process, no broker (the embedded `effnet run`).</summary>
    InMemory,

    RabbitMq,
}

/// <summary>Section "Messaging". The RabbitMQ address may also come from the RABBITMQ_URI variable.</summary>
public sealed class MessagingOptions : IValidatableObject
{
    public const string SectionName = "Messaging";

    public MessagingTransport Transport { get; set; } = MessagingTransport.RabbitMq;

    /// <summary>e.g. <c>amqp://guest:guest@127.0.0.1:5672/</c>. Holds the password: messages show it through
    /// <see cref="BrokerAddress.Redact"/> only.</summary>
    public string? RabbitMqUri { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Transport != MessagingTransport.RabbitMq)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(RabbitMqUri))
        {
            yield return new ValidationResult(
                "Messaging:RabbitMqUri (or the RABBITMQ_URI variable) is required when Messaging:Transport is RabbitMq.",
                [nameof(RabbitMqUri)]);
        }
        else if (!Uri.TryCreate(RabbitMqUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps" or "rabbitmq" or "rabbitmqs"))
        {
            yield return new ValidationResult(
                $"Messaging:RabbitMqUri '{BrokerAddress.Redact(RabbitMqUri)}' is not an amqp:// or amqps:// URI.",
                [nameof(RabbitMqUri)]);
        }
    }
}

/// <summary>Checks <see cref="MessagingOptions"/> (its <see cref="IValidatableObject"/> rules) with code generated at compile time.</summary>
[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class MessagingOptionsAnnotationsValidator : Microsoft.Extensions.Options.IValidateOptions<MessagingOptions>;
