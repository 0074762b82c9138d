using EfficientNet.Batch.ServiceDefaults;
using EfficientNet.Batch.Worker;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddWorker();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
