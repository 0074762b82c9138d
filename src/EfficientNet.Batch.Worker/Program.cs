using EfficientNet.Batch.Inference;
using EfficientNet.Batch.ServiceDefaults;
using EfficientNet.Batch.Worker;

// Before anything else: ONNX Runtime reads it once, when it initialises (see the class).
OnnxRuntimeTelemetry.OptOut();
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddWorker();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
