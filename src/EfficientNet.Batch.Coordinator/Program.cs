using EfficientNet.Batch.Coordinator;
using EfficientNet.Batch.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCoordinator();

var app = builder.Build();
app.MapCoordinator();
app.Run();
