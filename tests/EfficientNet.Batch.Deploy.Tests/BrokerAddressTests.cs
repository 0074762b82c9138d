using EfficientNet.Batch.ServiceDefaults;

namespace EfficientNet.Batch.Deploy.Tests;

/// <summary>The broker address the chart and compose hand the hosts (Messaging__RabbitMqUri) holds a password; wherever
/// a host shows it, only the masked form appears.</summary>
public sealed class BrokerAddressTests
{
    [Theory]
    [InlineData("amqp://effnet:s3cr3t@rabbitmq:5672/", "amqp://effnet:***@rabbitmq:5672/")]
    [InlineData("amqps://user:p@ss/word@broker.example:5671/vhost", "amqps://user:***@broker.example:5671/vhost")]
    [InlineData("amqp://justuser@rabbitmq/", "amqp://justuser:***@rabbitmq/")]
    [InlineData("amqp://rabbitmq:5672/", "amqp://rabbitmq:5672/")]
    [InlineData("not a uri user:pass@host", "***")]
    [InlineData("", "")]
    public void The_password_is_masked_and_the_rest_of_the_address_kept(string address, string shown) =>
        Assert.Equal(shown, BrokerAddress.Redact(address));

    [Fact]
    public void An_invalid_broker_address_is_refused_without_showing_its_password()
    {
        var options = new MessagingOptions { RabbitMqUri = "http://effnet:s3cr3t@rabbitmq:5672/" };

        var message = Assert.Single(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options))).ErrorMessage!;

        Assert.Contains("Messaging:RabbitMqUri", message, StringComparison.Ordinal);
        Assert.Contains("effnet:***@rabbitmq", message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", message, StringComparison.Ordinal);
    }
}
