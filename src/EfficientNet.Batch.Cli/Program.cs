using EfficientNet.Batch.Cli;
using EfficientNet.Batch.Inference;
using Microsoft.Extensions.Options;

// Before anything else: ONNX Runtime reads it once, when it initialises (see the class).
OnnxRuntimeTelemetry.OptOut();
using var interruption = new Interruption();
var parse = EffnetCommandLine.Build().Parse(args);
CliErrors.Verbose = parse.GetValue<bool>(EffnetCommandLine.VerboseOptionName) || CliErrors.VerboseFromEnvironment();
try
{
    var exitCode = await parse.InvokeAsync(EffnetCommandLine.InvocationSettings(), interruption.Token);
    // A usage error (unknown option, a value of the wrong type) is an invalid argument like any other.
    return parse.Errors.Count > 0 ? ExitCodes.InvalidArguments : exitCode;
}
catch (OptionsValidationException e)
{
    // A misconfiguration names the setting; a stack trace would only hide it.
    CliErrors.Report($"invalid configuration: {string.Join(" ", e.Failures)}", e);
    return ExitCodes.InvalidArguments;
}
catch (OperationCanceledException) when (interruption.IsRequested)
{
    // Ctrl+C: the command stopped where it was.
    return ExitCodes.Cancelled;
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // What no command expected: a bug. The whole exception, for the report, verbose or not.
    Console.Error.WriteLine($"error: internal error (please report it with what follows): {e}");
    return ExitCodes.JobFailed;
}
