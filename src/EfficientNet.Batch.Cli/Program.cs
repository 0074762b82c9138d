using EfficientNet.Batch.Cli;
using Microsoft.Extensions.Options;

try
{
    return await EffnetCommandLine.Build().Parse(args).InvokeAsync();
}
catch (OptionsValidationException e)
{
    // A misconfiguration names the setting; a stack trace would only hide it.
    Console.Error.WriteLine($"error: invalid configuration: {string.Join(" ", e.Failures)}");
    return 2;
}
