using EfficientNet.Batch.Cli;

return await EffnetCommandLine.Build().Parse(args).InvokeAsync();
