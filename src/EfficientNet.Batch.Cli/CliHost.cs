using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace EfficientNet.Batch.Cli;

/// <summary>Builds the in-process host that CLI commands run their services in.</summary>
internal static class CliHost
{
    public static HostApplicationBuilder CreateBuilder(string? modelsDirectory, IReadOnlyDictionary<string, string?> settings)
    {
        // Not CreateApplicationBuilder's defaults: a command has no appsettings.json to read or watch for changes, and
        // their logging providers are replaced below anyway (docs/benchmarks.md, *Start-up*). What a user sets still
        // applies: environment variables (`Worker__DecodeParallelism=1`) and the Logging section they may carry.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddEnvironmentVariables();
        // Unset values are left out, so that the options' defaults apply.
        var values = settings.Where(p => p.Value is not null).ToDictionary();
        if (!string.IsNullOrWhiteSpace(modelsDirectory))
        {
            values["Models:Directory"] = Path.GetFullPath(modelsDirectory);
        }

        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.AddSingleton<IHostLifetime, CommandLineHostLifetime>();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = null;
        });
        // Logs go to stderr so that stdout carries only results (e.g. `classify --json` lines).
        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The one line that says which execution provider (CUDA or CPU) runs the model.
        builder.Logging.AddFilter("EfficientNet.Batch.Inference", LogLevel.Information);
        builder.Logging.AddFilter("MassTransit", LogLevel.Error);
        return builder;
    }

    /// <summary>Starts <paramref name="host"/> once every validated setting has been checked: a bad one (say
    /// <c>Inference__BatchSize=0</c> in the environment) then reaches the command line's own report, one line naming
    /// it, instead of the host's start-up failure log with its stack trace.</summary>
    /// <exception cref="OptionsValidationException">A setting is invalid; the host was not started.</exception>
    public static Task StartAsync(IHost host, CancellationToken cancellationToken)
    {
        host.Services.GetRequiredService<IStartupValidator>().Validate();
        return host.StartAsync(cancellationToken);
    }
}
