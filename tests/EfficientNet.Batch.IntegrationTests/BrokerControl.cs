using System.Diagnostics;
using RabbitMQ.Client;
using Testcontainers.RabbitMq;

namespace EfficientNet.Batch.IntegrationTests;

/// <summary>
/// Stops and starts the RabbitMQ application of this test run's broker (<c>rabbitmqctl stop_app</c> / <c>start_app</c>):
/// the node stays up and keeps its address, as when a broker restarts in place. The broker is the Testcontainers
/// container when the fixture started one, else the private node scripts/test.sh started, named by RABBITMQ_NODENAME
/// and driven by EFFNET_TEST_RABBITMQCTL (the inherited ERL_EPMD_PORT finds its epmd). Never any other node: two test
/// runs on one machine must not stop each other's broker. Without either, <see cref="For"/> throws: a fault test that
/// cannot inject its fault fails loudly instead of passing without it.
/// </summary>
internal sealed class BrokerControl
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private readonly Func<string, Task> _rabbitmqctl;
    private readonly Uri _amqp;

    private BrokerControl(string description, Func<string, Task> rabbitmqctl, string amqp)
    {
        Description = description;
        _rabbitmqctl = rabbitmqctl;
        _amqp = new Uri(amqp);
    }

    public string Description { get; }

    public static BrokerControl For(InfrastructureFixture infrastructure)
    {
        if (infrastructure.RabbitMqContainer is { } container)
        {
            return new BrokerControl($"container {container.Name}", command => RunInContainerAsync(container, command), infrastructure.RabbitMqUri);
        }

        var node = Environment.GetEnvironmentVariable("RABBITMQ_NODENAME") ?? "";
        var rabbitmqctl = Environment.GetEnvironmentVariable("EFFNET_TEST_RABBITMQCTL") ?? "";
        if (node.Length == 0 || rabbitmqctl.Length == 0)
        {
            throw new InvalidOperationException(
                $"This test stops and starts the broker, but it cannot control the one at RABBITMQ_URI ({infrastructure.RabbitMqUri}): " +
                "RABBITMQ_NODENAME and EFFNET_TEST_RABBITMQCTL must name its node and rabbitmqctl (scripts/test.sh exports both), " +
                "or RABBITMQ_URI must be unset so that Testcontainers starts a broker.");
        }

        if (!File.Exists(rabbitmqctl))
        {
            throw new InvalidOperationException($"EFFNET_TEST_RABBITMQCTL names {rabbitmqctl}, which does not exist.");
        }

        return new BrokerControl($"node {node}", command => RunRabbitmqctlAsync(rabbitmqctl, node, command), infrastructure.RabbitMqUri);
    }

    /// <summary>Stops the broker application and checks that it no longer takes AMQP connections.</summary>
    public async Task StopAsync()
    {
        await _rabbitmqctl("stop_app");
        if (await AcceptsConnectionAsync())
        {
            throw new InvalidOperationException($"RabbitMQ ({Description}) still accepts AMQP connections at {_amqp.Authority} after stop_app.");
        }
    }

    /// <summary>Starts the broker application and waits until it takes AMQP connections again.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        await _rabbitmqctl("start_app");
        var deadline = DateTime.UtcNow + timeout;
        while (!await AcceptsConnectionAsync())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"RabbitMQ ({Description}) does not accept AMQP connections at {_amqp.Authority} {timeout} after start_app.");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>An AMQP handshake, not just a TCP connect: a container's port proxy accepts TCP with the broker down.</summary>
    private async Task<bool> AcceptsConnectionAsync()
    {
        var factory = new ConnectionFactory
        {
            Uri = _amqp,
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            ClientProvidedName = "effnet-tests-broker-probe",
        };
        try
        {
            await using var connection = await factory.CreateConnectionAsync();
            await connection.CloseAsync();
            return true;
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }

    private static async Task RunRabbitmqctlAsync(string rabbitmqctl, string node, string command)
    {
        // The environment (ERL_EPMD_PORT above all) is inherited from scripts/test.sh.
        var info = new ProcessStartInfo(rabbitmqctl, ["-n", node, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{rabbitmqctl} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rabbitmqctl -n {node} {command} did not finish within {CommandTimeout}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"rabbitmqctl -n {node} {command} exited {process.ExitCode} (ERL_EPMD_PORT={Environment.GetEnvironmentVariable("ERL_EPMD_PORT")}): " +
                $"{await stdout}{await stderr}");
        }
    }

    private static async Task RunInContainerAsync(RabbitMqContainer container, string command)
    {
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var result = await container.ExecAsync(["rabbitmqctl", command], timeout.Token);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {command} in container {container.Name} exited {result.ExitCode}: {result.Stdout}{result.Stderr}");
        }
    }
}
