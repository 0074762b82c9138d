using EfficientNet.Batch.Coordinator;
using EfficientNet.Batch.Inference;
using EfficientNet.Batch.ServiceDefaults;

// Before anything else: ONNX Runtime reads it once, when it initialises (see the class).
OnnxRuntimeTelemetry.OptOut();
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCoordinator();

var app = builder.Build();
app.MapCoordinator();
app.Run();
