using System.CommandLine;
using EfficientNet.Batch.Cli.Commands;

namespace EfficientNet.Batch.Cli;

/// <summary>The <c>effnet</c> command tree.</summary>
public static class EffnetCommandLine
{
    /// <summary>The global option that adds the exception's trace to an error line (<see cref="CliErrors"/>).</summary>
    public const string VerboseOptionName = "--verbose";

    public static RootCommand Build()
    {
        var models = new Option<string?>("--models")
        {
            Description = "Model store directory (default: $EFFNET_MODELS, else ~/.cache/effnet/models).",
            Recursive = true,
        };

        var root = new RootCommand("EfficientNet.Batch: label large image collections with the EfficientNet zoo.");
        root.Options.Add(models);
        root.Options.Add(CliErrors.CreateVerboseOption());
        root.Subcommands.Add(RunCommand.Create(models));
        root.Subcommands.Add(ClassifyCommand.Create(models));
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(SubmitCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(CancelCommand.Create());
        root.Subcommands.Add(JobsCommand.Create());
        root.Subcommands.Add(SchedulesCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create(models));
        root.Subcommands.Add(BenchCommand.Create(models));
        root.Subcommands.Add(StorageCommand.Create());
        return root;
    }

    /// <summary>How <c>Program</c> invokes the tree: Ctrl+C is left to <see cref="Interruption"/>, and exceptions reach
    /// <c>Program</c>, which turns the expected ones into an error line and an exit code.</summary>
    public static InvocationConfiguration InvocationSettings() => new()
    {
        ProcessTerminationTimeout = null,
        EnableDefaultExceptionHandler = false,
    };
}
