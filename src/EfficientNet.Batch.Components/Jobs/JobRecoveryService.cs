using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EfficientNet.Batch.Components.Jobs;

/// <summary>At start-up, resumes the unfinished jobs found in the state store.</summary>
public sealed partial class JobRecoveryService(IServiceScopeFactory scopes, ILogger<JobRecoveryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var coordinator = scope.ServiceProvider.GetRequiredService<JobCoordinator>();
        var resumed = await coordinator.RecoverAsync(coordinator.DispatchAsync, stoppingToken);
        if (resumed > 0)
        {
            LogResumed(resumed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed {Count} unfinished jobs from the state store")]
    private partial void LogResumed(int count);
}
