using System.Text.Json;
using EfficientNet.Batch.Components.Jobs;
using EfficientNet.Batch.Contracts;

namespace EfficientNet.Batch.Components.Outputs;

/// <summary><c>predictions.jsonl</c>: one compact JSON object per record, without the worker's thumbnail.</summary>
public sealed class JsonlOutputFormat : IOutputFormat
{
    public string Name => OutputFormats.Jsonl;

    public string FileName => JobOutputLayout.PredictionsName;

    public IOutputWriter Create(OutputContext context) => new Writer(context.Destination);

    private sealed class Writer(Stream destination) : IOutputWriter
    {
        private static readonly byte[] NewLine = "\n"u8.ToArray();
        private readonly Utf8JsonWriter _json = new(destination, new JsonWriterOptions { SkipValidation = true });

        public async ValueTask WriteAsync(PredictionRecord record, CancellationToken cancellationToken)
        {
            JsonSerializer.Serialize(_json, record.Thumbnail is null ? record : record with { Thumbnail = null }, JobJsonContext.Default.PredictionRecord);
            _json.Flush();
            _json.Reset(destination);
            await destination.WriteAsync(NewLine, cancellationToken);
        }

        public async ValueTask CompleteAsync(JobSummary summary, CancellationToken cancellationToken) =>
            await destination.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => _json.DisposeAsync();
    }
}
